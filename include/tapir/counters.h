/*
 * counters.h - every counter of the stack, one X-macro list
 *
 * Each dropped packet increments exactly one counter that says why.  The
 * names are stable: the control socket, tests and fuzzers read them.
 * Add new counters at the end of their layer's block.
 */
#ifndef TAPIR_COUNTERS_H
#define TAPIR_COUNTERS_H

#define TAPIR_STACK_COUNTERS(X)                                                        \
	/* Ethernet */                                                           \
	X(ETH_RX, "eth.rx")                                                      \
	X(ETH_TX, "eth.tx")                                                      \
	X(ETH_TX_ERR, "eth.tx_err")                                              \
	X(ETH_DROP_RUNT, "eth.drop.runt")                                        \
	X(ETH_DROP_NOT_US, "eth.drop.not_us")                                    \
	X(ETH_DROP_ETHERTYPE, "eth.drop.ethertype")                              \
	X(ETH_DROP_SRC_MULTICAST, "eth.drop.src_multicast")                      \
	/* ARP */                                                                \
	X(ARP_RX, "arp.rx")                                                      \
	X(ARP_REQUESTS_SENT, "arp.requests_sent")                                \
	X(ARP_REPLIES_SENT, "arp.replies_sent")                                  \
	X(ARP_GRATUITOUS_SENT, "arp.gratuitous_sent")                            \
	X(ARP_LEARNED, "arp.learned")                                            \
	X(ARP_LEARNED_FRAME, "arp.learned_frame")                                \
	X(ARP_UPDATED, "arp.updated")                                            \
	X(ARP_EXPIRED, "arp.expired")                                            \
	X(ARP_DROP_MALFORMED, "arp.drop.malformed")                              \
	X(ARP_DROP_BAD_SENDER, "arp.drop.bad_sender")                            \
	X(ARP_DROP_CONFLICT, "arp.drop.conflict")                                \
	X(ARP_DROP_NOT_FOR_US, "arp.drop.not_for_us")                            \
	X(ARP_DROP_CACHE_FULL, "arp.drop.cache_full")                            \
	X(ARP_PENDING_QUEUED, "arp.pending_queued")                              \
	X(ARP_PENDING_SENT, "arp.pending_sent")                                  \
	X(ARP_DROP_PENDING_FULL, "arp.drop.pending_full")                        \
	X(ARP_DROP_PENDING_TIMEOUT, "arp.drop.pending_timeout")                  \
	/* IPv4 */                                                               \
	X(IPV4_RX, "ipv4.rx")                                                    \
	X(IPV4_DELIVERED, "ipv4.delivered")                                      \
	X(IPV4_TX, "ipv4.tx")                                                    \
	X(IPV4_FRAGS_TX, "ipv4.frags_tx")                                        \
	X(IPV4_DROP_TRUNCATED, "ipv4.drop.truncated")                            \
	X(IPV4_DROP_VERSION, "ipv4.drop.version")                                \
	X(IPV4_DROP_IHL, "ipv4.drop.ihl")                                        \
	X(IPV4_DROP_TOTAL_LEN, "ipv4.drop.total_len")                            \
	X(IPV4_DROP_CHECKSUM, "ipv4.drop.checksum")                              \
	X(IPV4_DROP_OPTIONS, "ipv4.drop.options")                                \
	X(IPV4_DROP_SOURCE_ROUTE, "ipv4.drop.source_route")                      \
	X(IPV4_DROP_BAD_SRC, "ipv4.drop.bad_src")                                \
	X(IPV4_DROP_NOT_US, "ipv4.drop.not_us")                                  \
	X(IPV4_DROP_LINK_BCAST, "ipv4.drop.link_broadcast")                     \
	X(IPV4_DROP_PROTO, "ipv4.drop.proto")                                    \
	X(IPV4_DROP_NO_ROUTE, "ipv4.drop.no_route")                              \
	X(IPV4_DROP_TX_TOO_BIG, "ipv4.drop.tx_too_big")                          \
	X(IPV4_PMTU_UPDATED, "ipv4.pmtu_updated")                                \
	X(IPV4_PMTU_IGNORED, "ipv4.pmtu_ignored")                                \
	X(IPV4_PMTU_CLAMPED, "ipv4.pmtu_clamped")                                \
	X(IPV4_FORWARD_RX, "ipv4.forward_rx")                              \
	X(IPV4_DROP_FORWARD_TTL, "ipv4.drop.forward_ttl")                  \
	X(IPV4_DROP_FORWARD_ADDR, "ipv4.drop.forward_addr")                \
	/* Reassembly */                                                         \
	X(REASM_FRAGS_IN, "reasm.frags_in")                                      \
	X(REASM_COMPLETED, "reasm.completed")                                    \
	X(REASM_DUPLICATE, "reasm.duplicate")                                    \
	X(REASM_DROP_OVERLAP, "reasm.drop.overlap")                              \
	X(REASM_DROP_DEAD, "reasm.drop.dead")                                    \
	X(REASM_DROP_TOO_BIG, "reasm.drop.too_big")                              \
	X(REASM_DROP_BAD_LEN, "reasm.drop.bad_len")                              \
	X(REASM_DROP_BAD_END, "reasm.drop.bad_end")                              \
	X(REASM_DROP_TIMEOUT, "reasm.drop.timeout")                              \
	X(REASM_DROP_EVICTED, "reasm.drop.evicted")                              \
	X(REASM_DROP_NOMEM, "reasm.drop.nomem")                                  \
	/* ICMPv4 */                                                             \
	X(ICMP_RX, "icmp.rx")                                                    \
	X(ICMP_ECHO_REPLIES_SENT, "icmp.echo_replies_sent")                      \
	X(ICMP_ERRORS_SENT, "icmp.errors_sent")                                  \
	X(ICMP_ERRORS_RX, "icmp.errors_rx")                                      \
	X(ICMP_DROP_MALFORMED, "icmp.drop.malformed")                            \
	X(ICMP_DROP_CHECKSUM, "icmp.drop.checksum")                              \
	X(ICMP_DROP_BROADCAST_ECHO, "icmp.drop.broadcast_echo")                  \
	X(ICMP_DROP_TYPE, "icmp.drop.type")                                      \
	X(ICMP_ERRORS_RATE_LIMITED, "icmp.errors_rate_limited")                  \
	X(ICMP_ERRORS_SUPPRESSED, "icmp.errors_suppressed")                      \
	X(ICMP_DROP_UNMATCHED, "icmp.drop.unmatched")                            \
	X(ICMP_FORWARD_ECHO, "icmp.forward_echo")                          \
	X(ICMP_DROP_FORWARD, "icmp.drop.forward")                          \
	/* UDP */                                                                \
	X(UDP_RX, "udp.rx")                                                      \
	X(UDP_TX, "udp.tx")                                                      \
	X(UDP_DELIVERED, "udp.delivered")                                        \
	X(UDP_DROP_MALFORMED, "udp.drop.malformed")                              \
	X(UDP_DROP_LENGTH, "udp.drop.length")                                    \
	X(UDP_DROP_CHECKSUM, "udp.drop.checksum")                                \
	X(UDP_DROP_NO_LISTENER, "udp.drop.no_listener")                          \
	X(UDP_DROP_BAD_PORT, "udp.drop.bad_port")                         \
	X(UDP_ICMP_ERRORS_RX, "udp.icmp_errors_rx")                              \
	X(UDP_ICMP_ERRORS_DELIVERED, "udp.icmp_errors_delivered")                \
	X(UDP_DROP_ICMP_INVALID, "udp.drop.icmp_invalid")                        \
	X(UDP_FORWARDED, "udp.forwarded")                                  \
	X(UDP_DROP_NO_FORWARDER, "udp.drop.no_forwarder")                  \
	X(UDP_DROP_ZERO_CSUM, "udp.drop.zero_checksum")                    \
	X(UDP_DROP_MULTICAST, "udp.drop.multicast")                        \
	/* IPv6 */                                                         \
	X(IPV6_RX, "ipv6.rx")                                              \
	X(IPV6_DELIVERED, "ipv6.delivered")                                \
	X(IPV6_TX, "ipv6.tx")                                              \
	X(IPV6_FRAGS_TX, "ipv6.frags_tx")                                  \
	X(IPV6_DROP_TRUNCATED, "ipv6.drop.truncated")                      \
	X(IPV6_DROP_VERSION, "ipv6.drop.version")                          \
	X(IPV6_DROP_BAD_SRC, "ipv6.drop.bad_src")                          \
	X(IPV6_DROP_NOT_US, "ipv6.drop.not_us")                            \
	X(IPV6_DROP_LINK_MCAST, "ipv6.drop.link_mcast")                    \
	X(IPV6_DROP_TENTATIVE, "ipv6.drop.tentative")                      \
	X(IPV6_DROP_EXT_HDR, "ipv6.drop.ext_hdr")                          \
	X(IPV6_DROP_HBH_POSITION, "ipv6.drop.hbh_position")                \
	X(IPV6_DROP_OPTION, "ipv6.drop.option")                            \
	X(IPV6_DROP_RH0, "ipv6.drop.rh0")                                  \
	X(IPV6_DROP_ROUTING, "ipv6.drop.routing")                          \
	X(IPV6_DROP_FIRST_FRAG, "ipv6.drop.first_frag")                    \
	X(IPV6_DROP_FRAG_LEN, "ipv6.drop.frag_len")                        \
	X(IPV6_DROP_NESTED_FRAG, "ipv6.drop.nested_frag")                  \
	X(IPV6_ATOMIC_FRAGS, "ipv6.atomic_frags")                          \
	X(IPV6_DROP_PROTO, "ipv6.drop.proto")                              \
	X(IPV6_DROP_NO_ROUTE, "ipv6.drop.no_route")                        \
	X(IPV6_DROP_TX_TOO_BIG, "ipv6.drop.tx_too_big")                    \
	X(IPV6_PMTU_UPDATED, "ipv6.pmtu_updated")                          \
	X(IPV6_PMTU_IGNORED, "ipv6.pmtu_ignored")                          \
	X(IPV6_PMTU_CLAMPED, "ipv6.pmtu_clamped")                          \
	X(IPV6_FORWARD_RX, "ipv6.forward_rx")                              \
	X(IPV6_DROP_FORWARD_HOP_LIMIT, "ipv6.drop.forward_hop_limit")      \
	X(IPV6_DROP_FORWARD_ADDR, "ipv6.drop.forward_addr")                \
	/* IPv6 reassembly: the order of the Reassembly block (ipv6.c asserts it) */\
	X(REASM6_FRAGS_IN, "reasm6.frags_in")                              \
	X(REASM6_COMPLETED, "reasm6.completed")                            \
	X(REASM6_DUPLICATE, "reasm6.duplicate")                            \
	X(REASM6_DROP_OVERLAP, "reasm6.drop.overlap")                      \
	X(REASM6_DROP_DEAD, "reasm6.drop.dead")                            \
	X(REASM6_DROP_TOO_BIG, "reasm6.drop.too_big")                      \
	X(REASM6_DROP_BAD_LEN, "reasm6.drop.bad_len")                      \
	X(REASM6_DROP_BAD_END, "reasm6.drop.bad_end")                      \
	X(REASM6_DROP_TIMEOUT, "reasm6.drop.timeout")                      \
	X(REASM6_DROP_EVICTED, "reasm6.drop.evicted")                      \
	X(REASM6_DROP_NOMEM, "reasm6.drop.nomem")                          \
	/* ICMPv6 */                                                       \
	X(ICMPV6_RX, "icmpv6.rx")                                          \
	X(ICMPV6_ECHO_REPLIES_SENT, "icmpv6.echo_replies_sent")            \
	X(ICMPV6_ERRORS_SENT, "icmpv6.errors_sent")                        \
	X(ICMPV6_ERRORS_RX, "icmpv6.errors_rx")                            \
	X(ICMPV6_DROP_MALFORMED, "icmpv6.drop.malformed")                  \
	X(ICMPV6_DROP_CHECKSUM, "icmpv6.drop.checksum")                    \
	X(ICMPV6_DROP_TYPE, "icmpv6.drop.type")                            \
	X(ICMPV6_ERRORS_RATE_LIMITED, "icmpv6.errors_rate_limited")        \
	X(ICMPV6_ERRORS_SUPPRESSED, "icmpv6.errors_suppressed")            \
	X(ICMPV6_DROP_UNMATCHED, "icmpv6.drop.unmatched")                  \
	X(ICMPV6_ECHO_REPLIES_RX, "icmpv6.echo_replies_rx")                \
	X(ICMPV6_FORWARD_ECHO, "icmpv6.forward_echo")                      \
	X(ICMPV6_DROP_FORWARD, "icmpv6.drop.forward")                      \
	/* NDP, addresses and MLD */                                       \
	X(NDP_RX, "ndp.rx")                                                \
	X(NDP_NS_SENT, "ndp.ns_sent")                                      \
	X(NDP_NA_SENT, "ndp.na_sent")                                      \
	X(NDP_RS_SENT, "ndp.rs_sent")                                      \
	X(NDP_LEARNED, "ndp.learned")                                      \
	X(NDP_UPDATED, "ndp.updated")                                      \
	X(NDP_EXPIRED, "ndp.expired")                                      \
	X(NDP_RA_ACCEPTED, "ndp.ra_accepted")                              \
	X(NDP_REDIRECTS_ACCEPTED, "ndp.redirects_accepted")                \
	X(NDP_DAD_CONFLICTS, "ndp.dad_conflicts")                          \
	X(NDP_ADDR_ADDED, "ndp.addr_added")                                \
	X(NDP_ADDR_EXPIRED, "ndp.addr_expired")                            \
	X(NDP_PENDING_QUEUED, "ndp.pending_queued")                        \
	X(NDP_PENDING_SENT, "ndp.pending_sent")                            \
	X(NDP_MLD_REPORTS_SENT, "ndp.mld_reports_sent")                    \
	X(NDP_MLD_QUERIES_RX, "ndp.mld_queries_rx")                        \
	X(NDP_DROP_HOP_LIMIT, "ndp.drop.hop_limit")                        \
	X(NDP_DROP_MALFORMED, "ndp.drop.malformed")                        \
	X(NDP_DROP_BAD_SRC, "ndp.drop.bad_src")                            \
	X(NDP_DROP_NOT_FOR_US, "ndp.drop.not_for_us")                      \
	X(NDP_DROP_UNSOLICITED, "ndp.drop.unsolicited")                    \
	X(NDP_DROP_CACHE_FULL, "ndp.drop.cache_full")                      \
	X(NDP_DROP_PENDING_FULL, "ndp.drop.pending_full")                  \
	X(NDP_DROP_PENDING_TIMEOUT, "ndp.drop.pending_timeout")            \
	X(NDP_DROP_REDIRECT, "ndp.drop.redirect")                          \
	/* TCP */                                                                \
	X(TCP_RX, "tcp.rx")                                               \
	X(TCP_TX, "tcp.tx")                                               \
	X(TCP_RETRANSMITS, "tcp.retransmits")                             \
	X(TCP_TSO_TX, "tcp.tso_tx")                                       \
	X(TCP_RX_COALESCED, "tcp.rx_coalesced")                           \
	X(TCP_FAST_RETRANSMITS, "tcp.fast_retransmits")                   \
	X(TCP_RTO_TIMEOUTS, "tcp.rto_timeouts")                           \
	X(TCP_ACTIVE_OPENS, "tcp.active_opens")                           \
	X(TCP_PASSIVE_OPENS, "tcp.passive_opens")                         \
	X(TAPIR_TCP_STATE_ESTABLISHED, "tcp.established")                             \
	X(TCP_RESETS_SENT, "tcp.resets_sent")                             \
	X(TCP_RESETS_RX, "tcp.resets_rx")                                 \
	X(TCP_CHALLENGE_ACKS, "tcp.challenge_acks")                       \
	X(TCP_CHALLENGE_ACKS_LIMITED, "tcp.challenge_acks_limited")       \
	X(TCP_OOW_ACKS_LIMITED, "tcp.oow_acks_limited")                   \
	X(TCP_SYN_RECEIVED_ABORTED, "tcp.syn_received_aborted")           \
	X(TCP_SYNCOOKIES_SENT, "tcp.syncookies_sent")                     \
	X(TCP_SYNCOOKIES_OK, "tcp.syncookies_ok")                         \
	X(TCP_SYNCOOKIES_FAILED, "tcp.syncookies_failed")                 \
	X(TCP_ABORT_TIMEOUT, "tcp.abort_timeout")                         \
	X(TCP_KEEPALIVE_PROBES, "tcp.keepalive_probes")                   \
	X(TCP_ZERO_WINDOW_PROBES, "tcp.zero_window_probes")               \
	X(TCP_DELAYED_ACKS, "tcp.delayed_acks")                           \
	X(TCP_OOO_QUEUED, "tcp.ooo_queued")                               \
	X(TCP_DUP_DATA, "tcp.dup_data")                                   \
	X(TCP_PMTU_UPDATES, "tcp.pmtu_updates")                           \
	X(TCP_TX_EMSGSIZE, "tcp.tx_emsgsize")                             \
	X(TCP_TIME_WAIT_REUSED, "tcp.time_wait_reused")                   \
	X(TCP_FIN_WAIT2_TIMEOUTS, "tcp.fin_wait2_timeouts")               \
	X(TCP_DROP_MALFORMED, "tcp.drop.malformed")                       \
	X(TCP_DROP_CHECKSUM, "tcp.drop.checksum")                         \
	X(TCP_DROP_BROADCAST, "tcp.drop.broadcast")                       \
	X(TCP_DROP_NO_LISTENER, "tcp.drop.no_listener")                   \
	X(TCP_DROP_BACKLOG, "tcp.drop.backlog")                           \
	X(TCP_DROP_CONN_LIMIT, "tcp.drop.conn_limit")                     \
	X(TCP_DROP_NOMEM, "tcp.drop.nomem")                               \
	X(TCP_DROP_PAWS, "tcp.drop.paws")                                 \
	X(TCP_DROP_OUT_OF_WINDOW, "tcp.drop.out_of_window")               \
	X(TCP_DROP_BAD_ACK, "tcp.drop.bad_ack")                           \
	X(TCP_DROP_NO_ACK, "tcp.drop.no_ack")                             \
	X(TCP_DROP_OOO_FULL, "tcp.drop.ooo_full")                         \
	X(TCP_DROP_LISTEN, "tcp.drop.listen")                             \
	X(TCP_DROP_SYN_SENT, "tcp.drop.syn_sent")                         \
	X(TCP_DROP_RST_INVALID, "tcp.drop.rst_invalid")                   \
	X(TCP_DROP_AFTER_CLOSE, "tcp.drop.after_close")                   \
	X(TCP_DROP_ICMP_INVALID, "tcp.drop.icmp_invalid")                 \
	X(TCP_DROP_RCVBUF_FULL, "tcp.drop.rcvbuf_full")                   \
	X(TCP_TX_ERR, "tcp.tx_err")                                       \
	X(TCP_LOST_RETRANSMITS, "tcp.lost_retransmits")                   \
	X(TCP_TAIL_LOSS_PROBES, "tcp.tail_loss_probes")                   \
	X(TCP_DROP_SHUT_RD, "tcp.drop.shut_rd")                           \
	X(TCP_DROP_AFTER_FIN, "tcp.drop.after_fin")                       \
	X(TCP_TW_RECYCLED, "tcp.tw_recycled")                             \
	X(TCP_TW_EXPIRED, "tcp.tw_expired")                               \
	X(TCP_TW_ACKS_LIMITED, "tcp.tw_acks_limited")                     \
	X(TCP_SYNCOOKIES_TABLE_FULL, "tcp.syncookies_table_full")         \
	X(TCP_SYN_RECV_EVICTED, "tcp.syn_recv_evicted")                   \
	X(TCP_ORPHANS_RESET, "tcp.orphans_reset")                         \
	X(TCP_ORPHAN_PROBES_RESET, "tcp.orphan_probes_reset")             \
	X(TCP_MEM_PRESSURE, "tcp.mem_pressure")                           \
	X(TCP_MEM_WINDOW_CLAMPED, "tcp.mem_window_clamped")               \
	X(TCP_MEM_WRITE_REFUSED, "tcp.mem_write_refused")                 \
	X(TCP_DROP_OOO_MEM, "tcp.drop.ooo_mem")                            \
	X(TCP_RCVBUF_GROWN, "tcp.autotune.rcvbuf_grown")                   \
	X(TCP_SNDBUF_GROWN, "tcp.autotune.sndbuf_grown")                   \
	X(TCP_AUTOTUNE_REFUSED, "tcp.autotune.refused_mem")                \
	X(TCP_FORWARD_SYNS, "tcp.forward_syns")                            \
	X(TCP_FORWARD_ACCEPTED, "tcp.forward_accepted")                    \
	X(TCP_FORWARD_REFUSED, "tcp.forward_refused")                      \
	X(TCP_DROP_NO_FORWARDER, "tcp.drop.no_forwarder")                  \
	X(TCP_RACK_LOST, "tcp.rack.lost")                                  \
	X(TCP_RACK_REO_TIMEOUTS, "tcp.rack.reo_timeouts")                  \
	X(TCP_RACK_REORDERING, "tcp.rack.reordering")                      \
	X(TCP_DSACKS, "tcp.dsacks")                                        \
	X(TCP_TLP_LOSS_REPAIRED, "tcp.tlp.loss_repaired")                  \
	X(TCP_PRR_RECOVERIES, "tcp.prr.recoveries")                        \
	X(TCP_PRR_SSRB, "tcp.prr.ssrb_acks")                               \
	X(TCP_RTO_RECOVERIES, "tcp.rto_recoveries")                        \
	X(TCP_HYSTART_CSS, "tcp.hystart.css_entered")                      \
	X(TCP_HYSTART_CSS_BACK, "tcp.hystart.css_back")                    \
	X(TCP_HYSTART_EXIT, "tcp.hystart.exits")                           \
	/* DNS resolver (dns.h) */                                        \
	X(DNS_RESOLVES, "dns.resolves")                                   \
	X(DNS_QUERIES_SENT, "dns.queries_sent")                           \
	X(DNS_RETRANSMITS, "dns.retransmits")                             \
	X(DNS_ANSWERS, "dns.answers")                                     \
	X(DNS_TCP_FALLBACKS, "dns.tcp_fallbacks")                         \
	X(DNS_CACHE_HITS, "dns.cache_hits")                               \
	X(DNS_CACHE_MISSES, "dns.cache_misses")                           \
	X(DNS_CACHE_EVICTED, "dns.cache_evicted")                         \
	X(DNS_HOSTS_HITS, "dns.hosts_hits")                               \
	X(DNS_TIMEOUTS, "dns.timeouts")                                   \
	X(DNS_ICMP_ERRORS, "dns.icmp_errors")                             \
	X(DNS_DROP_MALFORMED, "dns.drop.malformed")                       \
	X(DNS_DROP_BAD_SOURCE, "dns.drop.bad_source")                     \
	X(DNS_DROP_BAD_ID, "dns.drop.bad_id")                             \
	X(DNS_DROP_BAD_QUESTION, "dns.drop.bad_question")                 \
	X(DNS_DROP_NOT_RESPONSE, "dns.drop.not_response")                 \
	X(DNS_DROP_TCP_BAD, "dns.drop.tcp_bad")                           \
	/* DHCP client (dhcp.h) */                                        \
	X(DHCP_TX, "dhcp.tx")                                             \
	X(DHCP_RX, "dhcp.rx")                                             \
	X(DHCP_DROP_MALFORMED, "dhcp.drop.malformed")                     \
	X(DHCP_DROP_NOT_OURS, "dhcp.drop.not_ours")                       \
	X(DHCP_DROP_UNEXPECTED, "dhcp.drop.unexpected")                   \
	X(DHCP_CONFLICTS, "dhcp.conflicts")

enum tapir_stack_counter {
#define X(id, name) TAPIR_CTR_##id,
	TAPIR_STACK_COUNTERS(X)
#undef X
	TAPIR_CTR__COUNT
};

#endif /* TAPIR_COUNTERS_H */
