/* ext_tests: the registry of the scenario tests of labsim's own Raft options (part "ext",
 * raft/raft_ext.h, issue 15).
 *
 * Each mechanism has a scenario that shows the failure it prevents, registered as a pair with
 * the same body and the same seed: the scenario with the option on, which must show the
 * failure's absence, and its twin with the option off, which must show the failure itself (so
 * the twin passes when the failure happens, and the pair proves the option is what made the
 * difference). A scenario sets its own options (lab_raft_opts_set), whatever --raft-opts says.
 *
 * The rows are added by each mechanism's scenario file (ext_<mechanism>.c); until the first
 * lands, the table holds no test (its one element is never read: the count is 0).
 */
#include "ext_reads.h"
#include "lab.h"

const struct lab_test lab_ext_tests[] = {
    {"TestStaleReadIndexExt", LAB_PART_EXT,
     "read-index: a stale leader in a minority serves no read", ext_stale_read_index},
    {"TestStaleReadLeaseExt", LAB_PART_EXT,
     "lease-read: a stale leader's lease ends before a new leader", ext_stale_read_lease},
    {"TestStaleReadLocalTwinExt", LAB_PART_EXT, "twin: local reads of a stale leader are ILLEGAL",
     ext_stale_read_local_twin},
    {"TestLeaseDriftExt", LAB_PART_EXT, "lease-read under clock drift within the bound",
     ext_lease_drift},
    {"TestLeaseDriftTwinExt", LAB_PART_EXT,
     "twin: lease-read with drift beyond the bound reads stale", ext_lease_drift_twin},
};
const size_t lab_ext_tests_count = sizeof(lab_ext_tests) / sizeof(lab_ext_tests[0]);
