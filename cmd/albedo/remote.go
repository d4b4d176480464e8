package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup/executor/remote"
)

// remoteClients builds the clients of cfg's remote functions, reusing
// those of prev whose function's settings are unchanged (a reload
// rebuilds only what changed; rebuilt lists the new ones), checks the
// credentials of new arn functions, and reads and checks the
// policy_source: aws policies (readPolicies).
func remoteClients(ctx context.Context, cfg *config.Config, prev []*remote.Client, log *slog.Logger) (clients []*remote.Client, rebuilt []string, err error) {
	var fresh []remote.Function
	byFn := map[string]*remote.Client{}
	for _, fn := range remote.Functions(cfg) {
		reused := false
		for _, c := range prev {
			if reflect.DeepEqual(c.Function(), fn) {
				byFn[fn.Name], reused = c, true
				break
			}
		}
		if !reused {
			fresh = append(fresh, fn)
			rebuilt = append(rebuilt, fn.Name)
		}
	}
	built, err := remote.New(ctx, fresh, remote.Options{})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range built {
		byFn[c.Function().Name] = c
	}
	checkCredentials(ctx, built, log)
	for _, fn := range remote.Functions(cfg) {
		clients = append(clients, byFn[fn.Name])
	}
	if err := readPolicies(ctx, cfg, clients, log); err != nil {
		return nil, nil, err
	}
	return clients, rebuilt, nil
}

// checkCredentials warns when the SDK's default credential chain, one for
// all arn functions, finds no credentials: it is asked once, through the
// first new arn function, and the warning names them all. Endpoint
// functions sign with their own credentials or not at all.
func checkCredentials(ctx context.Context, built []*remote.Client, log *slog.Logger) {
	var first *remote.Client
	var names []string
	for _, c := range built {
		if c.Function().Endpoint != "" {
			continue
		}
		if first == nil {
			first = c
		}
		names = append(names, c.Function().Name)
	}
	if first == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := first.CheckCredentials(cctx); err != nil {
		log.Warn("no AWS credentials for the remote arn functions: their invocations answer 502 LambdaAccessDenied until the SDK finds some",
			"functions", strings.Join(names, ","), "err", err)
	}
}

// readPolicies reads the policies of the clients whose functions have
// policy_source: aws (GetPolicy, once), puts them into cfg, and returns
// cfg.CheckPolicies' verdict: config.Errors positioned at the targets AWS
// would refuse to register.
func readPolicies(ctx context.Context, cfg *config.Config, clients []*remote.Client, log *slog.Logger) error {
	policies := map[string][]config.Statement{}
	for _, c := range clients {
		fn := c.Function()
		if !fn.PolicyFromService {
			continue
		}
		stmts, skipped, err := c.Policy(ctx)
		if err != nil {
			return fmt.Errorf("function %s (policy_source: aws): %w", fn.Name, err)
		}
		for _, s := range skipped {
			log.Warn("a statement of a remote function's policy is ignored: albedo cannot evaluate it, so it allows nothing here",
				"function", fn.Name, "reason", s)
		}
		policies[fn.Name] = stmts
		cfg.FunctionByName(fn.Name).Policy = stmts
	}
	return cfg.CheckPolicies(policies)
}
