#!/usr/bin/env bash
# The chaos suite's network: a namespace for one worker, joined to the host by a veth pair on a
# private /30 that exists only on this machine. The nemesis partitions the worker by taking the
# namespace's end down and slows the link with tbf (this kernel has no netem; see Chaos/README.md).
#   network.sh up|down            create / remove the namespace and the link
#   network.sh partition|heal     take the namespace's end of the link down / up
#   network.sh slow|fast          a 32 kbit/s token bucket (2 s queue) on both ends / none
# with CHAOS_NS, CHAOS_HOST_IP, CHAOS_NS_IP (a /30) from the Makefile.
set -euo pipefail
ns=${CHAOS_NS:?} host_ip=${CHAOS_HOST_IP:?} ns_ip=${CHAOS_NS_IP:?}
host_if=${ns:0:8}0 ns_if=${ns:0:8}1
case "${1:-}" in
  up)
    [ "$(id -u)" = 0 ] || { echo "network faults need root (ip netns); skipped" >&2; exit 3; }
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$host_if" 2>/dev/null || true
    ip netns add "$ns"
    ip link add "$host_if" type veth peer name "$ns_if" netns "$ns"
    ip addr add "$host_ip/30" dev "$host_if"
    ip link set "$host_if" up
    ip -n "$ns" addr add "$ns_ip/30" dev "$ns_if"
    ip -n "$ns" link set "$ns_if" up
    ip -n "$ns" link set lo up
    echo "network: namespace $ns ($ns_ip) joined to the host ($host_ip) by $host_if/$ns_if"
    ;;
  down)
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$host_if" 2>/dev/null || true
    ;;
  partition) ip -n "$ns" link set "$ns_if" down ;;
  heal) ip -n "$ns" link set "$ns_if" up ;;
  slow)
    tc qdisc replace dev "$host_if" root tbf rate 32kbit burst 4kb latency 2s
    ip netns exec "$ns" tc qdisc replace dev "$ns_if" root tbf rate 32kbit burst 4kb latency 2s
    ;;
  fast)
    tc qdisc del dev "$host_if" root 2>/dev/null || true
    ip netns exec "$ns" tc qdisc del dev "$ns_if" root 2>/dev/null || true
    ;;
  *) echo "usage: $0 up|down|partition|heal|slow|fast" >&2; exit 64 ;;
esac
