// Package metricstest reads Prometheus metrics the way a scraper does, for
// tests: the text exposition format parsed with
// github.com/prometheus/common/expfmt, flattened into samples keyed by
// name and labels.
package metricstest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples maps a series, written as Key writes it, to its value. A
// histogram gives name_count and name_sum series (its buckets are left
// out).
type Samples map[string]float64

// Key is the series name{label="value",...} with the labels sorted by
// name; labels is name, value, name, value...
func Key(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	pairs := make([]string, 0, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// Get returns the value of one series, 0 when it is absent.
func (s Samples) Get(name string, labels ...string) float64 { return s[Key(name, labels...)] }

// Has reports whether the series exists.
func (s Samples) Has(name string, labels ...string) bool {
	_, ok := s[Key(name, labels...)]
	return ok
}

// Sum adds every series of name whose labels include the given ones.
func (s Samples) Sum(name string, labels ...string) float64 {
	var total float64
	for k, v := range s {
		n, rest, _ := strings.Cut(k, "{")
		if n != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(","+rest, ","+labels[i]+`="`+labels[i+1]+`"`) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// Parse reads the text exposition format.
func Parse(t testing.TB, r io.Reader) Samples {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	out := Samples{}
	for _, f := range fams {
		add(out, f)
	}
	return out
}

// Gather collects g and reads it back through the text format, as a
// scrape would see it.
func Gather(t testing.TB, g prometheus.Gatherer) Samples {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatalf("encode %s: %v", f.GetName(), err)
		}
	}
	return Parse(t, &buf)
}

func add(out Samples, f *dto.MetricFamily) {
	for _, m := range f.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName(), l.GetValue())
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			out[Key(f.GetName(), labels...)] = m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			out[Key(f.GetName(), labels...)] = m.GetGauge().GetValue()
		case dto.MetricType_UNTYPED:
			out[Key(f.GetName(), labels...)] = m.GetUntyped().GetValue()
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			out[Key(f.GetName()+"_count", labels...)] = float64(h.GetSampleCount())
			out[Key(f.GetName()+"_sum", labels...)] = h.GetSampleSum()
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			out[Key(f.GetName()+"_count", labels...)] = float64(s.GetSampleCount())
			out[Key(f.GetName()+"_sum", labels...)] = s.GetSampleSum()
		}
	}
}

// Near reports whether got is within a relative 1e-9 of want (sums of
// floats taken in another order).
func Near(got, want float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	scale := want
	if scale < 0 {
		scale = -scale
	}
	return d <= 1e-9*scale || d < 1e-15
}

// String lists the samples, sorted, for failure messages.
func (s Samples) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %g\n", k, s[k])
	}
	return b.String()
}
