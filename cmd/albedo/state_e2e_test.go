package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	bolt "go.etcd.io/bbolt"
)

// stateEvents is how many events the state tests queue: enough for the
// events bucket to span several leaf pages.
const stateEvents = 300

// stateDir is the rig's state_dir.
func (r *durableRig) stateDir() string { return filepath.Join(filepath.Dir(r.cfgPath), "state") }

// queueEvents starts albedo with the gate closed, queues stateEvents
// events and one API policy change, and SIGKILLs it: the events stay
// stored, none delivered.
func (r *durableRig) queueEvents() []bool {
	r.t.Helper()
	c := r.start()
	client := lambdaClient("http://" + r.admin)
	acked, errs := r.sendEvents(client, stateEvents, nil)
	if len(errs) > 0 {
		r.t.Fatalf("%d invokes not accepted, first: %s", len(errs), errs[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("recorder"),
		StatementId: aws.String("s3"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")}); err != nil {
		r.t.Fatal(err)
	}
	r.kill(c)
	return acked
}

// runAlbedo runs the albedo binary (this test binary) with args to its
// end, bounded: its exit code and output.
func runAlbedo(t *testing.T, limit time.Duration, args ...string) (int, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), serveChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("albedo %s still running after %v:\n%s", strings.Join(args, " "), limit, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// boltGeometry reads a bbolt file's page size and high-water mark from
// its newer valid meta page (bbolt writes the machine's byte order).
func boltGeometry(t *testing.T, b []byte) (pageSize, pages int64) {
	t.Helper()
	var txid uint64
	for _, off := range []int64{0, 4096} {
		m := b[off+16:]
		if binary.NativeEndian.Uint32(m) != 0xED0CDAED {
			continue
		}
		if tx := binary.NativeEndian.Uint64(m[48:]); tx >= txid {
			txid, pageSize, pages = tx, int64(binary.NativeEndian.Uint32(m[8:])), int64(binary.NativeEndian.Uint64(m[40:]))
		}
	}
	if pageSize != 4096 {
		t.Fatalf("unexpected bbolt geometry: page size %d", pageSize)
	}
	return pageSize, pages
}

// leafOf returns the id of a leaf page holding records of the top-level
// bucket name (the middle one), or the root bucket's page when the bucket
// is inline.
func leafOf(t *testing.T, path, name string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = db.View(func(tx *bolt.Tx) error {
		id = int64(tx.Bucket([]byte(name)).Root())
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := boltGeometry(t, b)
	if id == 0 { // inline bucket: it lives on the root bucket's leaf page
		_, id = metaRoot(b)
		return id
	}
	for {
		p := b[id*ps:]
		if binary.NativeEndian.Uint16(p[8:]) == 0x02 {
			return id
		}
		n := int64(binary.NativeEndian.Uint16(p[10:]))
		id = int64(binary.NativeEndian.Uint64(p[16+(n/2)*16+8:])) // the middle child
	}
}

// metaRoot is the root bucket's page of the newer meta page.
func metaRoot(b []byte) (txid uint64, root int64) {
	for _, off := range []int64{0, 4096} {
		m := b[off+16:]
		if tx := binary.NativeEndian.Uint64(m[48:]); tx >= txid {
			txid, root = tx, int64(binary.NativeEndian.Uint64(m[16:]))
		}
	}
	return txid, root
}

// usedMiddleOf is the file offset 100 bytes before the middle of the keys
// and values on leaf page id: 200 bytes written there hit records.
func usedMiddleOf(t *testing.T, b []byte, id int64) int64 {
	t.Helper()
	ps, _ := boltGeometry(t, b)
	p := b[id*ps : (id+1)*ps]
	n := int64(binary.NativeEndian.Uint16(p[10:]))
	start, end := 16+n*16, 16+n*16
	for i := range n {
		e := p[16+i*16:]
		end = max(end, 16+i*16+int64(binary.NativeEndian.Uint32(e[4:])+binary.NativeEndian.Uint32(e[8:])+binary.NativeEndian.Uint32(e[12:])))
	}
	return id*ps + (start+end)/2 - 100
}

func overwriteFile(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

// garbage is 200 bytes that are no valid record.
func garbage() []byte {
	b := make([]byte, 200)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// TestServeRefusesDamagedState: with a damaged queue.db or policy.db,
// `albedo serve` exits 1 within seconds with a message naming the file,
// what it holds and the salvage command, and no Go panic.
func TestServeRefusesDamagedState(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		holds  string
		damage func(t *testing.T, path string)
	}{
		{"queue.db truncated", "queue.db", "queued asynchronous (Event) invocations", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ps, pages := boltGeometry(t, b)
			if err := os.Truncate(path, ps*pages/2); err != nil {
				t.Fatal(err)
			}
		}},
		{"queue.db: 200 bytes overwritten in the middle of an events page", "queue.db", "queued asynchronous (Event) invocations", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			overwriteFile(t, path, usedMiddleOf(t, b, leafOf(t, path, "events")), garbage())
		}},
		{"queue.db: 200 bytes overwritten at the start of an events page", "queue.db", "queued asynchronous (Event) invocations", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ps, _ := boltGeometry(t, b)
			overwriteFile(t, path, leafOf(t, path, "events")*ps, garbage())
		}},
		{"policy.db: 200 bytes overwritten in the middle of its page", "policy.db", "function policy changes made through the API", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			overwriteFile(t, path, usedMiddleOf(t, b, leafOf(t, path, "policies")), garbage())
		}},
		{"policy.db: 6 bytes overwritten inside a record's config_hash", "policy.db", "function policy changes made through the API", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			key := []byte(`"config_hash":"`)
			i := bytes.Index(b, key)
			if i < 0 {
				t.Fatalf("no config_hash in %s", path)
			}
			overwriteFile(t, path, int64(i+len(key)+4), []byte("XXXXXX"))
		}},
		{"policy.db: 200 bytes overwritten at the start of its page", "policy.db", "function policy changes made through the API", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ps, _ := boltGeometry(t, b)
			overwriteFile(t, path, leafOf(t, path, "policies")*ps, garbage())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newDurableRig(t)
			r.queueEvents()
			path := filepath.Join(r.stateDir(), tt.file)
			tt.damage(t, path)

			began := time.Now()
			code, out := runAlbedo(t, 20*time.Second, "serve", "-config", r.cfgPath)
			took := time.Since(began)
			t.Logf("exit %d after %v:\n%s", code, took.Round(time.Millisecond), out)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to give up", took)
			}
			for _, want := range []string{"state file " + path + " is damaged", tt.holds, "albedo state salvage -state-dir " + r.stateDir()} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			for _, bad := range []string{"panic:", "goroutine ", "fatal error"} {
				if strings.Contains(out, bad) {
					t.Errorf("output has %q", bad)
				}
			}
		})
	}
}

// idsIn lists the event ids ({"id":N} payloads) whose bytes are in b.
func idsIn(b []byte) map[int]bool {
	ids := map[int]bool{}
	for _, m := range regexp.MustCompile(`\{"id":(\d+)\}`).FindAllSubmatch(b, -1) {
		id, _ := strconv.Atoi(string(m[1]))
		ids[id] = true
	}
	return ids
}

// TestSalvageThenServeDelivers: queue.db with stateEvents events and 200
// bytes overwritten in the middle of one events page; `albedo state
// salvage` keeps every event of the other pages (and the policy change),
// moves the damaged file aside, and `albedo serve` then delivers every
// kept event to the real function.
func TestSalvageThenServeDelivers(t *testing.T) {
	r := newDurableRig(t)
	acked := r.queueEvents()
	queue := filepath.Join(r.stateDir(), "queue.db")
	b, err := os.ReadFile(queue)
	if err != nil {
		t.Fatal(err)
	}
	leaf := leafOf(t, queue, "events")
	ps, _ := boltGeometry(t, b)
	onPage := idsIn(b[leaf*ps : (leaf+1)*ps])
	if len(onPage) == 0 || len(onPage) > stateEvents/3 {
		t.Fatalf("the damaged page holds %d of %d events: want one page among several", len(onPage), stateEvents)
	}
	overwriteFile(t, queue, usedMiddleOf(t, b, leaf), garbage())
	damaged, err := os.ReadFile(queue)
	if err != nil {
		t.Fatal(err)
	}

	code, out := runAlbedo(t, 30*time.Second, "state", "check", "-config", r.cfgPath)
	t.Logf("state check: exit %d\n%s", code, out)
	if code != 1 || !strings.Contains(out, "queue.db   damaged: ") || !strings.Contains(out, "policy.db  ok: 1 policy") {
		t.Errorf("state check: exit %d, want 1, queue.db damaged and policy.db ok", code)
	}

	code, out = runAlbedo(t, 30*time.Second, "state", "salvage", "-config", r.cfgPath)
	t.Logf("state salvage: exit %d\n%s", code, out)
	if code != 0 {
		t.Fatalf("state salvage: exit %d", code)
	}
	m := regexp.MustCompile(`queue\.db +salvaged: kept (\d+) events, 0 event-invoke-configs; lost (\d+) events`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no kept/lost line for queue.db")
	}
	kept, _ := strconv.Atoi(m[1])
	lost, _ := strconv.Atoi(m[2])
	if lost == 0 || kept+lost > stateEvents || kept < stateEvents-len(onPage) {
		t.Errorf("kept %d, lost %d of %d events, %d of them on the damaged page", kept, lost, stateEvents, len(onPage))
	}
	if aside, _ := filepath.Glob(queue + ".damaged-*"); len(aside) != 1 {
		t.Errorf("damaged file kept as %v, want one queue.db.damaged-<time>", aside)
	} else if got, err := os.ReadFile(aside[0]); err != nil || !bytes.Equal(got, damaged) {
		t.Errorf("the file kept aside is not the damaged one (%v)", err)
	}
	if code, out := runAlbedo(t, 30*time.Second, "state", "check", "-config", r.cfgPath); code != 0 ||
		!strings.Contains(out, fmt.Sprintf("queue.db   ok: %d events", kept)) {
		t.Errorf("state check after salvage: exit %d\n%s", code, out)
	}

	// Every event off the damaged page is delivered after the restart.
	r.openGate()
	c := r.start()
	want := map[int]bool{}
	for id, a := range acked {
		if a && !onPage[id] {
			want[id] = true
		}
	}
	lines, ok := r.waitDelivered(c, 60*time.Second, func(l []deliveredLine) bool { return distinctIDs(l) >= kept })
	r.stop(c)
	got := map[int]bool{}
	for _, l := range lines {
		got[l.ID] = true
	}
	var missing []int
	for id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	t.Logf("delivered %d distinct events after the salvage (kept %d)", len(got), kept)
	if !ok || len(missing) > 0 || len(got) != kept {
		t.Errorf("delivered %d distinct events, kept %d; %d events off the damaged page never delivered, e.g. %v",
			len(got), kept, len(missing), missing[:min(5, len(missing))])
	}
	for id := range got {
		if id < 0 || id >= stateEvents {
			t.Errorf("delivered id %d was never sent", id)
		}
	}
}
