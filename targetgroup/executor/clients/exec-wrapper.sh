#!/bin/sh
# albedo's copy of what Lambda's managed-runtime bootstraps do with
# AWS_LAMBDA_EXEC_WRAPPER: check the wrapper, then run it with the
# interpreter's command line ("$@") as its arguments.
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then
  echo "$wrapper: does not exist"
  exit 127
fi
if [ ! -x "$wrapper" ]; then
  echo "$wrapper: is not an executable"
  exit 126
fi
exec "$wrapper" "$@"
