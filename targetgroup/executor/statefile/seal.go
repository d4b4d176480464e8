package statefile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A sealed value is what the state files' checksummed records are: a
// version byte, the CRC-32C (Castagnoli, 4 bytes, big endian) of the
// content, then the content. bbolt's page structure cannot reveal damage
// inside a value; the checksum makes it fail the bucket's Check. async's
// events and policy's records are sealed.

// castagnoli is CRC-32C, computed in hardware on amd64 and arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BeginSealed appends a sealed value's version and the room for its
// checksum to b; the content follows from the returned offset on, and
// EndSealed seals it.
func BeginSealed(b []byte, version byte) ([]byte, int) {
	b = append(b, version, 0, 0, 0, 0)
	return b, len(b)
}

// EndSealed writes the checksum of the content b[start:] (start as
// BeginSealed returned it).
func EndSealed(b []byte, start int) {
	binary.BigEndian.PutUint32(b[start-4:start], crc32.Checksum(b[start:], castagnoli))
}

// Unseal checks what follows a sealed value's version byte (the caller
// read it) and returns the content, which aliases v.
func Unseal(v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, errors.New("truncated")
	}
	content := v[4:]
	if want, got := binary.BigEndian.Uint32(v), crc32.Checksum(content, castagnoli); want != got {
		return nil, fmt.Errorf("checksum mismatch (stored %08x, content %08x)", want, got)
	}
	return content, nil
}
