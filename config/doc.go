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
//     rule, 5 wildcards per rule, as alb.md §6.1 documents. Adjustable
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
//     qualified ARNs (versions, aliases) are refused for now.
//   - A config with neither listeners nor functions is refused; one with
//     functions only is fine (the Lambda service alone).
//   - validate never runs build commands: a provided.* handler must exist
//     unless build is set.
package config
