package invokeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/albedo-lb/albedo/config"
)

var fixedNow = time.Date(2026, 11, 27, 3, 4, 5, 678e6, time.UTC)

func withFixedClock(o *Options, _ *[]config.Function) { o.Now = func() time.Time { return fixedNow } }

func TestListAndGetFunction(t *testing.T) {
	env := newTestEnv(t, withFixedClock)
	env.inv.fns["echo"] = withEnv(env.inv.fns["echo"])
	ctx := testCtx(t)

	list, err := env.client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range list.Functions {
		names = append(names, aws.ToString(f.FunctionName))
	}
	if want := []string{"broken", "ctx", "echo", "fail", "late", "reserved", "throttled"}; !equalStrings(names, want) {
		t.Errorf("ListFunctions: %v, want %v", names, want)
	}

	// Paging with MaxItems and the marker visits every function once.
	var paged []string
	p := lambda.NewListFunctionsPaginator(env.client, &lambda.ListFunctionsInput{MaxItems: aws.Int32(4)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Functions {
			paged = append(paged, aws.ToString(f.FunctionName))
		}
	}
	if !equalStrings(paged, names) {
		t.Errorf("paged: %v", paged)
	}

	got, err := env.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Configuration
	if aws.ToString(c.FunctionName) != "echo" || aws.ToString(c.FunctionArn) != functionARN(testRegion, testAccount, "echo") ||
		c.Runtime != types.Runtime("provided.al2023") || aws.ToString(c.Handler) != "bootstrap" ||
		aws.ToInt32(c.MemorySize) != 128 || aws.ToInt32(c.Timeout) != 3 || aws.ToString(c.Version) != "$LATEST" ||
		c.State != types.StateActive || c.Environment.Variables["K"] != "V" {
		t.Errorf("GetFunction configuration: %+v", c)
	}
	if got.Concurrency != nil {
		t.Errorf("no reserved concurrency, got %+v", got.Concurrency)
	}
	if _, err := env.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("unknown function: %v", err)
	}
	cfg, err := env.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo")})
	if err != nil || aws.ToString(cfg.FunctionName) != "echo" {
		t.Errorf("GetFunctionConfiguration: %v %v", cfg, err)
	}

	// Wire shape of GetFunction.
	resp, err := http.Get("http://" + env.addr + "/2015-03-31/functions/echo")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var indented bytes.Buffer
	if err := json.Indent(&indented, bytes.ReplaceAll(body, []byte(architecture()), []byte("ARCH")), "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "get_function.json", indented.Bytes())
}

func withEnv(f execFunction) execFunction {
	f.Environment = map[string]string{"K": "V"}
	return f
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
