package balancer

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/albedo-lb/albedo/config"
)

// ErrNoCertificate: an HTTPS listener without a certificate.
var ErrNoCertificate = errors.New("balancer: https listener needs a certificate")

// tlsConfig loads an HTTPS listener's certificates. The certificate is
// chosen by the client's SNI among the certificates' DNS names, and the
// first one is presented when none matches, which is ALB's
// default-certificate rule (certs.go).
func tlsConfig(certs []config.Certificate, region, account string) (*tls.Config, *certSet, error) {
	if len(certs) == 0 {
		return nil, nil, ErrNoCertificate
	}
	var kps []tls.Certificate
	for _, c := range certs {
		kp, err := tls.LoadX509KeyPair(c.CertificateFile, c.PrivateKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("balancer: certificate %s: %w", c.CertificateFile, err)
		}
		kps = append(kps, kp)
	}
	set := newCertSet(kps, region, account)
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: set.getCertificate}, set, nil
}
