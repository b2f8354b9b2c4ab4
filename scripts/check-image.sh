#!/usr/bin/env bash
# Start the container image IMAGE, wait until its HEALTHCHECK reports healthy, then stop it.
# Run by `make image` (the wheels workflow's container job); needs a container engine.
set -euo pipefail
image=$1
name=mcp-pii-check-$$
docker run --detach --name "$name" --publish 127.0.0.1::8765 "$image" >/dev/null
trap 'docker rm --force "$name" >/dev/null' EXIT
test "$(docker exec "$name" id -u)" != 0 || { echo "the container runs as root" >&2; exit 1; }
for _ in $(seq 60); do
  status=$(docker inspect --format '{{.State.Health.Status}}' "$name")
  if [[ $status == healthy ]]; then
    echo "$image: healthy"
    exit 0
  fi
  sleep 2
done
docker logs "$name" >&2
echo "$image: not healthy after 120 s (status: $status)" >&2
exit 1
