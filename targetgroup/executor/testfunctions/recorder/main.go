// Command recorder is a Lambda function that records every event it
// receives durably, for albedo's process-level durability tests of
// asynchronous invocations.
//
// The event is {"id":N}. The function:
//
//  1. waits until the file named by RECORDER_GATE exists (when set), so a
//     test can hold deliveries back until it is ready;
//  2. appends {"id":N,"pid":P} and a newline to the file named by
//     RECORDER_FILE with one O_APPEND write, then fsyncs it, so a line in
//     the file means the event was delivered, even if albedo and the
//     function are killed right after;
//  3. sleeps RECORDER_SLEEP_MS milliseconds, so delivery is slow enough to
//     be interrupted;
//  4. answers {"id":N}.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	ID *int `json:"id"`
}

type answer struct {
	ID int `json:"id"`
}

func handle(ctx context.Context, ev event) (answer, error) {
	if ev.ID == nil {
		return answer{}, errors.New("recorder: event has no id")
	}
	if gate := os.Getenv("RECORDER_GATE"); gate != "" {
		for {
			if _, err := os.Stat(gate); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return answer{}, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	if err := record(os.Getenv("RECORDER_FILE"), *ev.ID); err != nil {
		return answer{}, err
	}
	if ms, _ := strconv.Atoi(os.Getenv("RECORDER_SLEEP_MS")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return answer{ID: *ev.ID}, nil
}

// record appends one fsynced line for id to path.
func record(path string, id int) error {
	if path == "" {
		return errors.New("recorder: RECORDER_FILE is not set")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	line := fmt.Appendf(nil, "{\"id\":%d,\"pid\":%d}\n", id, os.Getpid())
	if _, err := f.Write(line); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() { lambda.Start(handle) }
