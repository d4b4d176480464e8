// Package config loads albedo.yaml: it decodes the file strictly, applies
// defaults and validates it the way AWS would refuse the same setup.
//
// # Use
//
// Load (or Parse for bytes) returns a *Config whose defaults are applied,
// whose relative paths are absolute, whose single-group forwards are
// normalized into Forward.TargetGroups (weight 1), and whose derived fields
// (TargetGroup.ARN, TargetGroup.Function, Function.ARN) are filled. Default
// returns the embedded default configuration. README.md (Configuration reference) documents every
// field with its type, default and range.
//
// CompileGlob is albedo's one wildcard matcher: the balancer compiles rule
// condition values with it, Allows matches policy source ARNs with it.
//
// # Errors
//
// All problems of a file are reported together as an Errors slice of
// *Error, sorted by line and column; each prints as
// "file:line:col: path: msg" and matches ErrInvalid. A field that fails to
// decode (unknown key, wrong YAML type) is not validated again, so one
// mistake gives one message. I/O errors are returned wrapped, not as Errors.
//
// # Concurrency
//
// Load, Parse, Default and the helpers are safe for concurrent use. A
// *Config is plain data with no locks: treat it as read-only once shared.
// Other packages compile the slice they need in their constructors and never
// read Config on the request path; the exception is Allows, the one policy
// evaluation, which the request path calls after a policy changes.
//
// # Design decisions
//
//   - Decoding walks the yaml.v3 node tree by reflection instead of using
//     Decoder.KnownFields, because KnownFields stops at the first problem and
//     gives no column. The walk counts nodes, alias expansions included, and
//     gives up past 200000 to defuse alias bombs. Merge keys ("<<") work.
//   - A value written explicitly is kept even when zero ("memory_size: 0" is
//     an error, not 128); null or absent means default. admin.address
//     written as "" disables the admin listener.
//   - Messages quote paths (code, certificates) as written; the Config holds
//     them resolved against the config file's directory.
//   - Target-group and load-balancer ids are the first 8 bytes of a sha256
//     of the names (see TargetGroupID, LoadBalancerID), so ARNs are stable
//     across restarts and machines.
//   - Policy statements are Allow-only, as Lambda's resource policies are;
//     the principal must match exactly (no "*" principal), action names are
//     case-sensitive (IAM says insensitive: UNCONFIRMED for Lambda), and
//     source_arn is a case-sensitive whole-string glob as with ArnLike.
//   - Condition values: at most 3 per condition (5 for source_ip), 5 per
//     rule, 5 wildcards per rule, as AWS documents them ("Rule condition
//     types", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#rule-condition-types;
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SourceIpConditionConfig.html). Adjustable
//     quotas (rules per load balancer) are not enforced; the 50 listeners
//     per load balancer quota is.
//   - A host_header value must contain a "." and end in letters, as AWS
//     requires, so "localhost" is refused; use an http_header condition.
//   - A forward whose weights are all 0 is accepted (AWS behaviour
//     UNCONFIRMED); the balancer decides what such a rule answers.
//   - fixed_response.content_type may be left unset (AWS's default is
//     UNCONFIRMED); message_body length counts characters (runes).
//   - The environment limit (4 KB) counts the bytes of names and values; how
//     Lambda counts is UNCONFIRMED. Names starting with "_" and the names
//     the runtime sets itself (IsReservedEnv) are refused.
//   - Functions named in targets or async destinations may be written as a
//     name or as an unqualified ARN of the config's region and account;
//     qualified ARNs (versions, aliases) are refused for local functions.
//     A remote function (arn) may also be named by its own ARN, whatever
//     its region, account and qualifier: that is the point of it.
//   - A function is remote when arn or endpoint is written (Function.Remote).
//     The fields of the other kind are refused with one message each, not
//     validated. A remote function's timeout is albedo's deadline for the
//     call (1-900, [3]). policy_source: aws leaves the target groups'
//     permission check to CheckPolicies, which serve and validate run with
//     the statements read from the Lambda service; its errors are
//     positioned like Load's (ErrorAt), since the Config keeps where each
//     field was written.
//   - A config with neither listeners nor functions is refused; one with
//     functions only is fine (the Lambda service alone, reached through
//     the Invoke API), unless admin.address is "": then nothing would be
//     served, and that is refused too.
//   - Two listen addresses clash when they would bind one socket, whatever
//     the spelling: "", "0.0.0.0", "::" and "[::]" are every interface
//     (Go listens dual-stack on each) and clash with anything on the port;
//     "localhost" is 127.0.0.1 and ::1; IP literals compare by value
//     ("[::1]" = "::1", "::ffff:127.0.0.1" = "127.0.0.1"); other host names
//     compare as written, never resolved. This holds between listeners and
//     between a listener and admin.address.
//   - validate never runs build commands: a provided.* handler must exist
//     unless build is set.
//   - Managed runtimes are any nodejsN.x and python3.N, so that a runtime
//     Lambda adds later needs no new albedo; whether an interpreter for it
//     exists is not config's business (cmd/albedo asks the executor).
//     Their handler is checked as Lambda's API checks it (1-128
//     characters, no white space); a handler AWS accepts but its runtime
//     would refuse (malformed, or a module not found in code or layers
//     when there is no build) is a warning in Config.Warnings, not an
//     error, because the function deploys on AWS and fails when invoked.
//   - layers: at most 5 (Lambda's quota), existing directories; runtimes:
//     a value with a "/" is a path (resolved, must be an executable file),
//     one without is a command looked up on PATH at start.
//   - Config.ErrorAt positions problems other packages find (an
//     interpreter older than its runtime) like the file's own errors.
package config
