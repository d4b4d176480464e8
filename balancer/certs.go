package balancer

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
)

// certSet is an HTTPS listener's certificates with the names they serve,
// so that the handshake and the access log agree on which certificate a
// client's SNI selects: the first certificate whose DNS names match it
// (an exact name, or a "*.example.com" wildcard covering one label),
// otherwise the first certificate, ALB's default. The access log's
// domain_name is the SNI only when a certificate matched it ("-" when
// the default was presented for want of a match, as ALB logs it), and
// chosen_cert_arn the matched certificate's ARN.
//
// A certificate file has no ARN: each gets a stable ACM-style one,
// arn:aws:acm:REGION:ACCOUNT:certificate/UUID, the UUID derived from a
// SHA-256 of the leaf certificate, so the same file keeps its ARN across
// restarts.
type certSet struct {
	certs []tls.Certificate
	arns  []string
	exact map[string]int // lower-case DNS name → first certificate serving it
	wild  map[string]int // ".example.com" of "*.example.com" → first certificate
}

func newCertSet(certs []tls.Certificate, region, account string) *certSet {
	s := &certSet{certs: certs, exact: map[string]int{}, wild: map[string]int{}}
	for i := range certs {
		leaf := certs[i].Leaf
		if leaf == nil && len(certs[i].Certificate) > 0 {
			leaf, _ = x509.ParseCertificate(certs[i].Certificate[0])
		}
		var der []byte
		if len(certs[i].Certificate) > 0 {
			der = certs[i].Certificate[0]
		}
		sum := sha256.Sum256(der)
		s.arns = append(s.arns, fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%x-%x-%x-%x-%x",
			region, account, sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16]))
		if leaf == nil {
			continue
		}
		for _, name := range leaf.DNSNames {
			name = strings.ToLower(name)
			m, key := s.exact, name
			if rest, ok := strings.CutPrefix(name, "*"); ok && strings.HasPrefix(rest, ".") {
				m, key = s.wild, rest
			}
			if _, dup := m[key]; !dup {
				m[key] = i
			}
		}
	}
	return s
}

// match returns the certificate serving serverName, and false when none
// does (the default certificate is presented then). It does not allocate
// for a lower-case name, which is what clients send.
func (s *certSet) match(serverName string) (int, bool) {
	if serverName == "" {
		return 0, false
	}
	name := strings.ToLower(serverName)
	if i, ok := s.exact[name]; ok {
		return i, true
	}
	if dot := strings.IndexByte(name, '.'); dot > 0 {
		if i, ok := s.wild[name[dot:]]; ok {
			return i, true
		}
	}
	return 0, false
}

// getCertificate is the tls.Config hook: the certificate match chooses,
// else the default. Among several certificates for the name (an RSA and
// an ECDSA one) the first the client supports wins, as crypto/tls chooses.
func (s *certSet) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	i, ok := s.match(hello.ServerName)
	if !ok {
		return &s.certs[0], nil
	}
	if hello.SupportsCertificate(&s.certs[i]) != nil {
		for j := i + 1; j < len(s.certs); j++ {
			if s.serves(j, hello.ServerName) && hello.SupportsCertificate(&s.certs[j]) == nil {
				return &s.certs[j], nil
			}
		}
	}
	return &s.certs[i], nil
}

// serves reports whether certificate j's names cover serverName.
func (s *certSet) serves(j int, serverName string) bool {
	leaf := s.certs[j].Leaf
	return leaf != nil && leaf.VerifyHostname(serverName) == nil
}
