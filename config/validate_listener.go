package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
)

// ALB limits enforced by validation: ALB's quotas ("Rules", "Listeners
// per Application Load Balancer": https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html),
// its "Rule condition types"
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-condition-types)
// and the ELBv2 API's shapes (CreateRule, HostHeaderConditionConfig,
// HttpHeaderConditionConfig, HttpRequestMethodConditionConfig,
// TargetGroupTuple, TargetGroupStickinessConfig, RedirectActionConfig,
// FixedResponseActionConfig: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_<shape>.html).
const (
	maxListeners            = 50
	maxPriority             = 50000
	maxValuesPerCondition   = 3
	maxSourceIPValues       = 5
	maxValuesPerRule        = 5
	maxWildcardsPerRule     = 5
	maxConditionValueLength = 128
	maxHeaderNameLength     = 40
	maxMethodLength         = 40
	maxGroupsPerForward     = 5
	maxWeight               = 999
	maxStickiness           = 604800
	maxRedirectField        = 128
	maxFixedBody            = 1024
)

var hostnameRE = lazyRegexp(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)

func (v *validator) listeners() {
	c := v.cfg
	if len(c.Listeners) > maxListeners {
		v.errorf("listeners", "at most %d listeners per load balancer (ALB quota), got %d", maxListeners, len(c.Listeners))
	}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		p := indexPath("listeners", i)
		portOK := false
		if !v.d.isSet(p + ".port") {
			v.errorf(p+".port", "required (1-65535)")
		} else {
			portOK = v.intRange(p+".port", l.Port, 1, 65535)
		}
		if !listenHost(l.Address).any {
			if _, err := netip.ParseAddr(strings.Trim(l.Address, "[]")); err != nil && !hostnameRE().MatchString(l.Address) {
				v.errorf(p+".address", "invalid address %q: want an IP address or host name", l.Address)
			}
		}
		if portOK {
			for j := range i {
				o := &c.Listeners[j]
				if o.Port != l.Port {
					continue
				}
				if clash, why := hostsClash(l.Address, o.Address); clash {
					v.errorf(p+".port", "%s", portClash(l.Port, fmt.Sprintf("listeners[%d]", j), why))
					break
				}
			}
			if host, port, err := splitHostPort(c.Admin.Address); err == "" && port == l.Port {
				if clash, why := hostsClash(l.Address, host); clash {
					v.errorf(p+".port", "%s", portClash(l.Port, fmt.Sprintf("admin.address %q", c.Admin.Address), why))
				}
			}
		}
		switch l.Protocol {
		case "HTTP":
			if len(l.Certificates) > 0 {
				v.errorf(p+".certificates", "only HTTPS listeners take certificates")
			}
		case "HTTPS":
			if len(l.Certificates) == 0 {
				v.errorf(p+".certificates", "an HTTPS listener needs at least one certificate")
			}
			for j := range l.Certificates {
				v.certificate(&l.Certificates[j], indexPath(p+".certificates", j))
			}
		default:
			v.errorf(p+".protocol", "must be HTTP or HTTPS, got %q", l.Protocol)
		}
		if l.DefaultAction == nil {
			v.errorf(p+".default_action", "required")
		} else {
			v.action(l.DefaultAction, p+".default_action", l)
		}
		for j := range l.Rules {
			r := &l.Rules[j]
			rp := indexPath(p+".rules", j)
			if !v.d.isSet(rp + ".priority") {
				v.errorf(rp+".priority", "required (1-50000, lowest is evaluated first)")
			} else if v.intRange(rp+".priority", r.Priority, 1, maxPriority) {
				for k := range j {
					if l.Rules[k].Priority == r.Priority {
						v.errorf(rp+".priority", "%d is already used by rules[%d]", r.Priority, k)
						break
					}
				}
			}
			v.conditions(r.Conditions, rp)
			if r.Action == nil {
				v.errorf(rp+".action", "required")
			} else {
				v.action(r.Action, rp+".action", l)
			}
		}
	}
}

func (v *validator) certificate(c *Certificate, p string) {
	if c.CertificateFile == "" {
		v.errorf(p+".certificate_file", "required")
	}
	if c.PrivateKeyFile == "" {
		v.errorf(p+".private_key_file", "required")
	}
	if c.CertificateFile == "" || c.PrivateKeyFile == "" {
		return
	}
	certPEM, ok := v.readFile(p+".certificate_file", c.CertificateFile)
	keyPEM, ok2 := v.readFile(p+".private_key_file", c.PrivateKeyFile)
	if !ok || !ok2 {
		return
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		v.errorf(p, "%q and %q are not a PEM certificate and key pair: %s", c.CertificateFile, c.PrivateKeyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
}

// maxPEMSize bounds what validation reads of a certificate or key file.
const maxPEMSize = 1 << 20

func (v *validator) readFile(path, name string) ([]byte, bool) {
	f, err := os.Open(v.resolve(name))
	if err == nil {
		defer f.Close()
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && !st.Mode().IsRegular() {
			v.errorf(path, "%q is not a regular file", name)
			return nil, false
		}
	}
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(f, maxPEMSize+1))
	}
	switch {
	case err == nil && len(b) > maxPEMSize:
		v.errorf(path, "%q is larger than 1 MiB", name)
	case err == nil:
		return b, true
	case errors.Is(err, fs.ErrNotExist):
		v.errorf(path, "file %q does not exist", name)
	default:
		v.errorf(path, "cannot read %q: %s", name, errorReason(err))
	}
	return nil, false
}

// errorReason is the OS-independent tail of a file error, without the path
// (messages quote the path as written in the file instead).
func errorReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
