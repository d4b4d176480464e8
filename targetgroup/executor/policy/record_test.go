package policy

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/albedo-lb/albedo/config"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rec  policyRecord
	}{
		{"no statements", policyRecord{ConfigHash: "h", RevisionID: "r"}},
		{"empty statements", policyRecord{ConfigHash: "h", RevisionID: "r", Statements: []config.Statement{}}},
		{"statements", policyRecord{ConfigHash: statementsHash(nil), RevisionID: "0f6f2b9e-0000-4000-8000-000000000000",
			Statements: []config.Statement{albStatement, {Sid: "s3", Principal: "s3.amazonaws.com", Action: "lambda:*", SourceAccount: "123456789012"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := appendRecord(nil, &tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			got, legacy, err := decodeRecord(b)
			if err != nil || legacy || !reflect.DeepEqual(got, tt.rec) {
				t.Fatalf("decoded %+v legacy=%v %v, want %+v", got, legacy, err, tt.rec)
			}
			// Any one byte changed anywhere is found.
			for i := range b {
				damaged := append([]byte(nil), b...)
				damaged[i] ^= 0x20
				if _, _, err := decodeRecord(damaged); !errors.Is(err, ErrCorruptRecord) {
					t.Fatalf("byte %d changed: err = %v", i, err)
				}
			}
		})
	}
}

func TestCheckRecord(t *testing.T) {
	good, err := appendRecord(nil, &policyRecord{ConfigHash: "0123456789abcdef", RevisionID: "r", Statements: []config.Statement{albStatement}})
	if err != nil {
		t.Fatal(err)
	}
	inHash := append([]byte(nil), good...)
	copy(inHash[5+len(`{"config_hash":"01`):], "XXXXXX")
	tests := []struct {
		name string
		k, v []byte
		want string // "" : accepted
	}{
		{"checksummed", []byte("web"), good, ""},
		{"legacy", []byte("web"), []byte(`{"config_hash":"h","revision_id":"r","statements":null}`), ""},
		{"legacy with spaces", []byte("web"), []byte("{\"config_hash\":\"h\",\"revision_id\":\"r\"}\n"), ""},
		{"6 bytes overwritten in the config hash", []byte("web"), inHash, "checksum mismatch"},
		{"checksum changed", []byte("web"), append([]byte{recordVersion, 0, 0, 0, 0}, good[5:]...), "checksum mismatch"},
		{"truncated", []byte("web"), good[:len(good)-1], "checksum mismatch"},
		{"header only", []byte("web"), good[:3], "truncated"},
		{"unknown version", []byte("web"), append([]byte{9}, good[1:]...), "unknown version 9"},
		{"empty value", []byte("web"), nil, "empty"},
		{"empty key", nil, good, "empty function name"},
		{"legacy unknown field", []byte("web"), []byte(`{"config_hash":"h","revision_id":"r","admin":true}`), "unknown field"},
		{"legacy without hash", []byte("web"), []byte(`{"revision_id":"r"}`), "no config hash"},
		{"legacy with data after it", []byte("web"), []byte(`{"config_hash":"h","revision_id":"r"}{}`), "data after"},
		{"legacy cut short", []byte("web"), []byte(`{"config_hash":"h","revis`), "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRecord(tt.k, tt.v)
			if tt.want == "" {
				if err != nil {
					t.Errorf("rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeRecord(f *testing.F) {
	good, _ := appendRecord(nil, &policyRecord{ConfigHash: "h", RevisionID: "r", Statements: []config.Statement{albStatement}})
	f.Add(good)
	f.Add([]byte(`{"config_hash":"h","revision_id":"r","statements":[{"Sid":"a"}]}`))
	f.Add([]byte{recordVersion})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, _, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptRecord) {
				t.Fatalf("error %v is not ErrCorruptRecord", err)
			}
			return
		}
		// What decodes re-encodes (checksummed) to the same record.
		again, err := appendRecord(nil, &rec)
		if err != nil {
			t.Fatal(err)
		}
		back, legacy, err := decodeRecord(again)
		if err != nil || legacy || !reflect.DeepEqual(back, rec) {
			t.Fatalf("re-encode: %+v legacy=%v %v; want %+v", back, legacy, err, rec)
		}
	})
}

// putRaw stores v as the record of function in dir's policy.db, as an
// earlier albedo (or a damaged disk) left it.
func putRaw(t *testing.T, dir, function string, v []byte) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, File), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(policyBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(function), v)
	}); err != nil {
		t.Fatal(err)
	}
}

// getRaw returns the stored record of function (nil: none).
func getRaw(t *testing.T, dir, function string) []byte {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, File), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v []byte
	_ = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(policyBucket); b != nil {
			v = append([]byte(nil), b.Get([]byte(function))...)
		}
		return nil
	})
	if len(v) == 0 {
		return nil
	}
	return v
}
