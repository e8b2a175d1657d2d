/* ext_tests: the registry of the scenario tests of labsim's own Raft options (part "ext",
 * raft/raft_ext.h, issue 15).
 *
 * Each mechanism has a scenario that shows the failure it prevents, registered as a pair with
 * the same body and the same seed: the scenario with the option on, which must show the
 * failure's absence, and its twin with the option off, which must show the failure itself (so
 * the twin passes when the failure happens, and the pair proves the option is what made the
 * difference). A scenario sets its own options (lab_raft_opts_set), whatever --raft-opts says.
 *
 * The rows are added by each mechanism's scenario file (ext_<mechanism>.c), each pair
 * on-test first, then its twin.
 */
#include "ext_member.h"
#include "ext_pipe.h"
#include "ext_prevote.h"
#include "ext_reads.h"
#include "lab.h"

const struct lab_test lab_ext_tests[] = {
    {"TestPreVoteRejoinExt", LAB_PART_EXT, "a rejoining follower does not depose the leader",
     ext_prevote_rejoin},
    {"TestPreVoteRejoinTwinExt", LAB_PART_EXT, "twin: a rejoining follower deposes the leader",
     ext_prevote_rejoin_twin},
    {"TestCheckQuorumExt", LAB_PART_EXT, "a leader cut off from its majority steps down",
     ext_check_quorum},
    {"TestCheckQuorumTwinExt", LAB_PART_EXT, "twin: a leader cut off from its majority leads on",
     ext_check_quorum_twin},
    {"TestLeaderTransferExt", LAB_PART_EXT, "leadership transfer to a chosen follower under load",
     ext_leader_transfer},
    {"TestLeaderTransferTwinExt", LAB_PART_EXT, "twin: a leader change without transfer",
     ext_leader_transfer_twin},
    {"TestMemberPartitionExt", LAB_PART_EXT,
     "membership changes one server at a time under partitions", ext_member_partition},
    {"TestMemberPartitionTwinExt", LAB_PART_EXT,
     "UNSAFE: 3 -> 5 voters in one step under a partition", ext_member_partition_twin},
    {"TestMemberLearnerExt", LAB_PART_EXT, "a learner is promoted only once caught up",
     ext_member_learner},
    {"TestMemberLearnerTwinExt", LAB_PART_EXT, "UNSAFE: a lagging learner promoted at once",
     ext_member_learner_twin},
    {"TestPipelineStreamExt", LAB_PART_EXT, "pipelining commits a stream within one round trip",
     ext_test_pipeline_stream},
    {"TestPipelineStreamTwinExt", LAB_PART_EXT, "without pipelining a stream waits two round trips",
     ext_test_pipeline_stream_twin},
    {"TestStaleReadIndexExt", LAB_PART_EXT,
     "read-index: a stale leader in a minority serves no read", ext_stale_read_index},
    {"TestStaleReadLeaseExt", LAB_PART_EXT,
     "lease-read: a stale leader's lease ends before a new leader", ext_stale_read_lease},
    {"TestStaleReadLocalTwinExt", LAB_PART_EXT, "twin: local reads of a stale leader are ILLEGAL",
     ext_stale_read_local_twin},
    {"TestLeaseDriftExt", LAB_PART_EXT, "lease-read under clock drift within the bound",
     ext_lease_drift},
};
const size_t lab_ext_tests_count = sizeof(lab_ext_tests) / sizeof(lab_ext_tests[0]);
