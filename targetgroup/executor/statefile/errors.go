package statefile

import (
	"errors"
	"strings"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrLocked: another process holds the file (another albedo serving
	// the same state_dir). Nothing was read or changed.
	ErrLocked = errors.New("statefile: locked by another process")
	// ErrDamaged: the file cannot be used as it is; a *DamagedError says
	// which file, what it holds and what is wrong.
	ErrDamaged = errors.New("statefile: damaged")
)

// DamagedError reports a state file that failed the checks of Open or
// Check. errors.Is(err, ErrDamaged) is true for it.
type DamagedError struct {
	Path  string // the file
	Holds string // what it holds (Spec.Holds)
	// Problems lists what is wrong, first found first ("page 10 identifies
	// itself as page 4886718345", "bbolt: …"): the first few of Total.
	// Never empty.
	Problems []string
	Total    int
}

func (e *DamagedError) Error() string {
	return "statefile: " + e.Path + " is damaged: " + e.Detail()
}

// Detail is the first problem, and how many more there are.
func (e *DamagedError) Detail() string {
	var b strings.Builder
	b.WriteString(e.Problems[0])
	if n := max(e.Total, len(e.Problems)) - 1; n > 0 {
		b.WriteString(" (and ")
		b.WriteString(plural(n, "more problem"))
		b.WriteString(")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }
