package balancer

import (
	"testing"

	"github.com/albedo-lb/albedo/config"
)

func TestRedirectLocation(t *testing.T) {
	req := redirectVars{scheme: "http", host: []byte("example.com"), port: 80, path: []byte("a/b%20c"), query: []byte("x=1&y=2")}
	noQuery := req
	noQuery.query = nil
	tests := []struct {
		name string
		cfg  config.Redirect
		vars redirectVars
		want string
	}{
		{name: "defaults reproduce the request", cfg: config.Redirect{StatusCode: "HTTP_301"}, vars: req, want: "http://example.com:80/a/b%20c?x=1&y=2"},
		{name: "to https", cfg: config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}, vars: req, want: "https://example.com:443/a/b%20c?x=1&y=2"},
		{name: "explicit defaults", cfg: config.Redirect{Protocol: "#{protocol}", Host: "#{host}", Port: "#{port}", Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_302"}, vars: req, want: "http://example.com:80/a/b%20c?x=1&y=2"},
		{name: "no query no question mark", cfg: config.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}, vars: noQuery, want: "https://example.com:443/a/b%20c"},
		{name: "new host and path", cfg: config.Redirect{Host: "www.#{host}", Path: "/new/#{path}", StatusCode: "HTTP_302"}, vars: req, want: "http://www.example.com:80/new/a/b%20c?x=1&y=2"},
		{name: "query with keywords", cfg: config.Redirect{Query: "from=#{host}&p=#{port}&#{query}", StatusCode: "HTTP_302"}, vars: noQuery, want: "http://example.com:80/a/b%20c?from=example.com&p=80&"},
		{name: "path keywords", cfg: config.Redirect{Path: "/#{host}/#{port}/#{path}", StatusCode: "HTTP_302"}, vars: req, want: "http://example.com:80/example.com/80/a/b%20c?x=1&y=2"},
		// (config refuses unknown keywords; as literal path text it is
		// encoded like any other.)
		{name: "unknown keyword literal", cfg: config.Redirect{Path: "/#{nope}", StatusCode: "HTTP_302"}, vars: noQuery, want: "http://example.com:80/%23%7Bnope%7D"},
		{name: "empty path becomes slash", cfg: config.Redirect{Path: "#{path}", StatusCode: "HTTP_302"}, vars: redirectVars{scheme: "https", host: []byte("h"), port: 8443}, want: "https://h:8443/"},
		{name: "fixed query replaces", cfg: config.Redirect{Query: "a=b", StatusCode: "HTTP_302"}, vars: req, want: "http://example.com:80/a/b%20c?a=b"},
		// The path is written unencoded in the config and ALB encodes it
		// (config: "must not be percent-encoded"); #{path} is the raw,
		// already encoded request path and stays as it is.
		{name: "path literal encoded", cfg: config.Redirect{Path: "/new page/ü/#{path}", StatusCode: "HTTP_301"}, vars: req, want: "http://example.com:80/new%20page/%C3%BC/a/b%20c?x=1&y=2"},
		// config.Load fills protocol, host, port and path, and keeps a
		// query written as "" (ALB allows 0 characters): the query is
		// dropped, not replaced by #{query}.
		{name: "loaded config with empty query drops it", cfg: config.Redirect{Protocol: "HTTPS", Host: "#{host}", Port: "443", Path: "/#{path}", Query: "", StatusCode: "HTTP_301"}, vars: req, want: "https://example.com:443/a/b%20c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra, err := compileRedirect(&tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(ra.appendLocation(nil, &tt.vars)); got != tt.want {
				t.Errorf("Location = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRedirectEmptyQueryFromFile goes through config.Parse, as albedo
// does: "query: \"\"" must drop the request's query.
func TestRedirectEmptyQueryFromFile(t *testing.T) {
	const yml = `
listeners:
  - port: 8080
    default_action:
      redirect: {protocol: HTTPS, port: "443", query: "", status_code: HTTP_301}
`
	cfg, err := config.Parse([]byte(yml), "")
	if err != nil {
		t.Fatal(err)
	}
	ra, err := compileRedirect(cfg.Listeners[0].DefaultAction.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	v := redirectVars{scheme: "http", host: []byte("example.com"), port: 8080, path: []byte("p"), query: []byte("secret=1")}
	if got, want := string(ra.appendLocation(nil, &v)), "https://example.com:443/p"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

func TestCompileRedirectErrors(t *testing.T) {
	for _, r := range []config.Redirect{
		{StatusCode: "HTTP_307"},
		{StatusCode: ""},
		{Protocol: "FTP", StatusCode: "HTTP_301"},
	} {
		if _, err := compileRedirect(&r); err == nil {
			t.Errorf("compileRedirect(%+v) = nil error", r)
		}
	}
}

func FuzzRedirectTemplate(f *testing.F) {
	f.Add("/#{path}?#{query}#{", "p", "q")
	f.Add("#{host}#{port}#{protocol}", "", "")
	f.Fuzz(func(t *testing.T, tmpl, path, query string) {
		v := redirectVars{scheme: "http", host: []byte("h"), port: 80, path: []byte(path), query: []byte(query)}
		ra := &redirectAction{
			protocol: compileTemplate("#{protocol}"), host: compileTemplate(tmpl), port: compileTemplate("#{port}"),
			path: compileTemplate(tmpl), query: compileTemplate(tmpl),
		}
		loc := ra.appendLocation(nil, &v)
		if len(loc) < len("http://:80/") {
			t.Fatalf("short Location %q", loc)
		}
	})
}
