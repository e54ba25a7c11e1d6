#!/usr/bin/env bash
# The chaos suite's network: a namespace for one worker, joined to the host by a veth pair on a
# private /30 that exists only on this machine. The nemesis partitions the worker by taking the
# namespace's end down and slows the link with tbf (this kernel has no netem; see Chaos/README.md).
#   network.sh up|down            create / remove the namespace and the link
#   network.sh partition|heal     take the namespace's end of the link down / up
#   network.sh slow|fast          a 32 kbit/s token bucket (2 s queue) on both ends / none
#   network.sh cut-postgres|mend-postgres
#                                 PostgreSQL alone out of the namespace's reach (a routing rule
#                                 that blackholes TCP to its port; Redis stays reachable) / back
# with CHAOS_NS, CHAOS_HOST_IP, CHAOS_NS_IP (a /30) and CHAOS_PG_PORT from the Makefile.
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
  # No iptables or tc filters on this kernel: a policy-routing rule by destination port is what
  # singles PostgreSQL out. A blackhole route fails sends at once rather than dropping them
  # silently: the worker sees its PostgreSQL connections break, not hang.
  cut-postgres) ip netns exec "$ns" ip rule add ipproto tcp dport "${CHAOS_PG_PORT:?}" blackhole ;;
  mend-postgres)
    while ip netns exec "$ns" ip rule del ipproto tcp dport "${CHAOS_PG_PORT:?}" blackhole 2>/dev/null; do :; done
    ;;
  *) echo "usage: $0 up|down|partition|heal|slow|fast|cut-postgres|mend-postgres" >&2; exit 64 ;;
esac
