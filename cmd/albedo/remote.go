package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/albedo-lb/albedo/config"
	"github.com/albedo-lb/albedo/targetgroup"
	"github.com/albedo-lb/albedo/targetgroup/executor"
	"github.com/albedo-lb/albedo/targetgroup/executor/async"
	"github.com/albedo-lb/albedo/targetgroup/executor/invokeapi"
	"github.com/albedo-lb/albedo/targetgroup/executor/remote"
)

// The Router is the one Invoker of everything that invokes functions.
var (
	_ targetgroup.Invoker = (*remote.Router)(nil)
	_ invokeapi.Invoker   = (*remote.Router)(nil)
	_ async.Invoker       = (*remote.Router)(nil)
	_ remote.Local        = (*executor.Pool)(nil)
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
		if c.Function().Endpoint != "" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.CheckCredentials(cctx)
		cancel()
		if err != nil {
			log.Warn("no AWS credentials for a remote arn function: its invocations answer 502 LambdaAccessDenied until the SDK finds some",
				"function", c.Function().Name, "err", err)
			break // one chain for all arn functions
		}
	}
	for _, fn := range remote.Functions(cfg) {
		clients = append(clients, byFn[fn.Name])
	}
	if err := readPolicies(ctx, cfg, clients, log); err != nil {
		return nil, nil, err
	}
	return clients, rebuilt, nil
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
