package invokeapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/valyala/fasthttp"
)

// sigV4 constants.
const (
	sigV4Algorithm   = "AWS4-HMAC-SHA256"
	amzDateLayout    = "20060102T150405Z"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	maxSignatureSkew = 15 * time.Minute
)

// sigV4Verifier checks SigV4 Authorization headers by re-signing a copy of
// the request with the configured secret, using the request's own
// X-Amz-Date, credential scope and signed-header list, with the AWS SDK's
// signer, and comparing signatures in constant time.
type sigV4Verifier struct {
	creds  aws.Credentials
	region string // the only region a credential scope may name
	signer *v4.Signer
	now    func() time.Time
}

// signingService is the only service a credential scope may name.
const signingService = "lambda"

func newSigV4Verifier(accessKeyID, secret, region string, now func() time.Time) *sigV4Verifier {
	return &sigV4Verifier{
		creds:  aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret},
		region: region,
		signer: v4.NewSigner(),
		now:    now,
	}
}

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	AccessKeyID   string
	Date          string // yyyymmdd of the scope
	Region        string
	Service       string
	SignedHeaders []string // lowercase, as sent
	Signature     string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (authorization, bool) {
	var a authorization
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return a, false
	}
	var cred, signed string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			a.Signature = v
		}
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" || signed == "" || a.Signature == "" {
		return a, false
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = scope[0], scope[1], scope[2], scope[3]
	a.SignedHeaders = strings.Split(signed, ";")
	return a, true
}

func errAccessDenied(msg string) *apiError {
	return newError(fasthttp.StatusForbidden, excAccessDenied, msg)
}

// signedHead is what verifyHead learnt of a request, for verifyBody.
type signedHead struct {
	auth authorization
	at   time.Time // X-Amz-Date
}

// verifyHead checks everything of a signed request its body is not needed
// for, so that a request that cannot be valid is refused before any of
// its body is read: an Authorization header for the configured access
// key, scoped to service lambda and the configured region, an X-Amz-Date
// within 15 minutes, and no UNSIGNED-PAYLOAD claim. Failures are 403
// AccessDeniedException.
func (v *sigV4Verifier) verifyHead(ctx *fasthttp.RequestCtx) (signedHead, *apiError) {
	h := &ctx.Request.Header
	raw := string(h.Peek("Authorization"))
	if raw == "" {
		return signedHead{}, errAccessDenied("Missing Authentication Token: the request must be signed with AWS Signature Version 4.")
	}
	auth, ok := parseAuthorization(raw)
	if !ok {
		return signedHead{}, errAccessDenied("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters of " +
			sigV4Algorithm + ".")
	}
	if subtle.ConstantTimeCompare([]byte(auth.AccessKeyID), []byte(v.creds.AccessKeyID)) != 1 {
		return signedHead{}, errAccessDenied("The security token included in the request is invalid.")
	}
	// A signature for another service or region must not work here: a
	// request signed for one endpoint would otherwise be valid at all
	// of them (AWS's own messages).
	if auth.Service != signingService {
		return signedHead{}, errAccessDenied("Credential should be scoped to correct service: '" + signingService + "'.")
	}
	if auth.Region != v.region {
		return signedHead{}, errAccessDenied("Credential should be scoped to a valid region, not '" + auth.Region + "'.")
	}
	amzDate := string(h.Peek("X-Amz-Date"))
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil || auth.Date != amzDate[:8] {
		return signedHead{}, errAccessDenied("The request must carry a valid X-Amz-Date matching the credential scope.")
	}
	if d := v.now().Sub(t); d > maxSignatureSkew || d < -maxSignatureSkew {
		return signedHead{}, errAccessDenied("Signature expired: " + amzDate + " is not within 15 minutes of the server time.")
	}
	if name := unsignedAmzHeader(h, auth.SignedHeaders); name != "" {
		return signedHead{}, errAccessDenied("There were headers present in the request which were not signed: " + name +
			" (every x-amz-* header must be signed).")
	}
	// The signature always covers the body's real hash, as Lambda (unlike
	// S3) requires: honouring UNSIGNED-PAYLOAD would let anyone who sees a
	// signed request replay it with another body while it is fresh.
	if string(h.Peek("X-Amz-Content-Sha256")) == unsignedPayload {
		return signedHead{}, errAccessDenied("UNSIGNED-PAYLOAD is not supported: the request body must be signed.")
	}
	return signedHead{auth: auth, at: t}, nil
}

// unsignedAmzHeader is the name of an X-Amz-* header of h that signed
// (lowercase names) does not list, or "".
func unsignedAmzHeader(h *fasthttp.RequestHeader, signed []string) string {
	for k := range h.All() {
		if len(k) < len(amzPrefix) || !strings.EqualFold(string(k[:len(amzPrefix)]), amzPrefix) {
			continue
		}
		name := strings.ToLower(string(k))
		if !slices.Contains(signed, name) {
			return name
		}
	}
	return ""
}

const amzPrefix = "x-amz-"

// verifyBody finishes what verifyHead began, once the body is read: the
// body's SHA-256 against any X-Amz-Content-Sha256, then the signature,
// recomputed over the request as received. Failures are 403
// AccessDeniedException.
func (v *sigV4Verifier) verifyBody(ctx *fasthttp.RequestCtx, sh signedHead) *apiError {
	sum := sha256.Sum256(ctx.PostBody())
	payloadHash := hex.EncodeToString(sum[:])
	if claimed := string(ctx.Request.Header.Peek("X-Amz-Content-Sha256")); claimed != "" && claimed != payloadHash {
		return errAccessDenied("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	auth := sh.auth
	req, ok := rebuildRequest(ctx, auth.SignedHeaders)
	if !ok {
		return errAccessDenied("The request signature we calculated does not match the signature you provided.")
	}
	if err := v.signer.SignHTTP(context.Background(), v.creds, req, payloadHash, auth.Service, auth.Region, sh.at); err != nil {
		return errAccessDenied("The request could not be verified: " + err.Error())
	}
	got, ok := parseAuthorization(req.Header.Get("Authorization"))
	if !ok || subtle.ConstantTimeCompare([]byte(got.Signature), []byte(auth.Signature)) != 1 ||
		strings.Join(got.SignedHeaders, ";") != strings.Join(auth.SignedHeaders, ";") {
		return errAccessDenied("The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// rebuildRequest copies what the client signed into an *http.Request:
// method, the raw request URI, Host, Content-Length when signed, and every
// other signed header.
func rebuildRequest(ctx *fasthttp.RequestCtx, signed []string) (*http.Request, bool) {
	u, err := url.ParseRequestURI(string(ctx.RequestURI()))
	if err != nil {
		return nil, false
	}
	host := string(ctx.Request.Header.Host())
	u.Host = host
	u.Scheme = "http"
	req := &http.Request{
		Method: string(ctx.Method()),
		URL:    u,
		Host:   host,
		Header: make(http.Header, len(signed)),
	}
	for _, name := range signed {
		switch name {
		case "host":
			continue
		case "content-length":
			// fasthttp has read exactly Content-Length bytes (or de-chunked
			// the body); a signed length must equal what arrived.
			req.ContentLength = int64(len(ctx.PostBody()))
			continue
		}
		values := ctx.Request.Header.PeekAll(name)
		if len(values) == 0 {
			return nil, false
		}
		key := http.CanonicalHeaderKey(name)
		for _, v := range values {
			req.Header[key] = append(req.Header[key], string(v))
		}
	}
	return req, true
}
