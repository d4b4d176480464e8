package balancer

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/albedo-lb/albedo/config"
)

// ErrNoCertificate: an HTTPS listener without a certificate.
var ErrNoCertificate = errors.New("balancer: https listener needs a certificate")

// tlsConfig loads an HTTPS listener's certificates. crypto/tls picks the
// certificate whose names match the client's SNI, and the first one when
// none does, which is ALB's default-certificate rule.
func tlsConfig(certs []config.Certificate) (*tls.Config, error) {
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, c := range certs {
		kp, err := tls.LoadX509KeyPair(c.CertificateFile, c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("balancer: certificate %s: %w", c.CertificateFile, err)
		}
		tc.Certificates = append(tc.Certificates, kp)
	}
	return tc, nil
}
