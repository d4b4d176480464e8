package balancer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/albedo-lb/albedo/config"
)

// writeCert writes a self-signed certificate for names into dir.
func writeCert(t *testing.T, dir, base string, names ...string) config.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := config.Certificate{
		CertificateFile: filepath.Join(dir, base+".crt"),
		PrivateKeyFile:  filepath.Join(dir, base+".key"),
	}
	if err := os.WriteFile(c.CertificateFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.PrivateKeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHTTPSListenerSNI(t *testing.T) {
	dir := t.TempDir()
	fs, groups := fakes("g")
	cfg := &config.Config{Listeners: []config.Listener{{
		Address:  "127.0.0.1",
		Protocol: "HTTPS",
		Certificates: []config.Certificate{
			writeCert(t, dir, "default", "default.test"),
			writeCert(t, dir, "api", "api.test"),
		},
		DefaultAction: forwardTo("g"),
	}}}
	b, _ := start(t, cfg, groups, Options{})
	addr := b.Addrs()[0].String()
	for _, tt := range []struct{ sni, wantCN string }{
		{"api.test", "api.test"},
		{"other.test", "default.test"},
	} {
		t.Run(tt.sni, func(t *testing.T) {
			var gotCN string
			c := &fasthttp.Client{TLSConfig: &tls.Config{
				ServerName:         tt.sni,
				InsecureSkipVerify: true, // self-signed; the certificate choice is what we check
				VerifyConnection: func(cs tls.ConnectionState) error {
					gotCN = cs.PeerCertificates[0].Subject.CommonName
					return nil
				},
			}}
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("https://" + addr + "/")
			if err := c.DoTimeout(req, resp, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode() != 200 || gotCN != tt.wantCN {
				t.Errorf("status %d, certificate %q; want 200, %q", resp.StatusCode(), gotCN, tt.wantCN)
			}
			if s := fs["g"].lastReceived().conn.Scheme; s != "https" {
				t.Errorf("Conn.Scheme = %q", s)
			}
		})
	}
}
