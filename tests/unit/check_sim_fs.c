/* Unit tests of the simulated file system (src/sim_fs.c), added to the sim suite as the "fs"
 * case: names and listing order, descriptors that follow the file through renames and
 * removes, atomic replacement, process exit (partial files stay, later calls fail), every
 * bound with its error code, the digest, and the dump for users; the opt-in fault-injection
 * hooks (a gate that holds a process at its file steps, writes paced over virtual time). Each
 * test states its seed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "check_util.h"
#include "sim.h"

/* The whole content of `name` as a string ("" when missing), for comparisons. */
static char *fs_text(struct sim *sim, const char *name)
{
    char *data = NULL;
    size_t len = 0;
    if (sim_fs_read(sim, SIM_NODE_NONE, name, &data, &len) != SIM_FS_OK) return strdup("");
    ck_assert_uint_eq(strlen(data), len);
    return data;
}

static void ck_fs_text(struct sim *sim, const char *name, const char *want)
{
    char *got = fs_text(sim, name);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_fs_names_and_listing)
{
    /* Goal: files are listed in byte order of their names whatever the creation order, and
     * bad names are refused with SIM_FS_ENAME without creating anything. Seed 1. */
    struct sim *sim = sim_new(1);
    static const char *const names[] = {"mr-out-1", "../pg-grimm.txt", "mr-0-1", "b", "A"};
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(sim_fs_write_file(sim, 1, names[i], names[i], strlen(names[i])),
                         SIM_FS_OK);
    static const char *const sorted[] = {"../pg-grimm.txt", "A", "b", "mr-0-1", "mr-out-1"};
    ck_assert_uint_eq(sim_fs_count(sim), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(sim_fs_name_at(sim, i), sorted[i]);
    ck_assert_ptr_null(sim_fs_name_at(sim, 5));
    ck_fs_text(sim, "mr-0-1", "mr-0-1");
    char long_name[SIM_FS_NAME_MAX + 1];
    memset(long_name, 'x', SIM_FS_NAME_MAX);
    long_name[SIM_FS_NAME_MAX] = '\0';
    int fd = -1;
    ck_assert_int_eq(sim_fs_create(sim, 1, "", &fd), SIM_FS_ENAME);
    ck_assert_int_eq(sim_fs_create(sim, 1, "a b", &fd), SIM_FS_ENAME);
    ck_assert_int_eq(sim_fs_create(sim, 1, "tab\there", &fd), SIM_FS_ENAME);
    ck_assert_int_eq(sim_fs_create(sim, 1, long_name, &fd), SIM_FS_ENAME);
    ck_assert_int_eq(sim_fs_create(sim, 1, NULL, &fd), SIM_FS_ENAME);
    ck_assert_int_eq(sim_fs_create(sim, 99, "ok", &fd), SIM_FS_EINVAL);
    ck_assert_uint_eq(sim_fs_count(sim), 5);
    size_t len = 0;
    ck_assert_int_eq(sim_fs_size(sim, "missing", &len), SIM_FS_ENOENT);
    ck_assert(!sim_fs_exists(sim, "missing"));
    ck_assert_int_eq(sim_fs_remove(sim, 1, "missing"), SIM_FS_ENOENT);
    ck_assert_int_eq(sim_fs_rename(sim, 1, "missing", "x"), SIM_FS_ENOENT);
    ck_assert_str_eq(sim_fs_strerror(SIM_FS_EDOWN), "the calling node's process has exited");
    sim_free(sim);
}
END_TEST

START_TEST(test_fs_rename_replaces_atomically)
{
    /* Goal: rename publishes a whole file in one step and replaces the target; a descriptor
     * follows its file through the rename (as an inode does). Seed 2. */
    struct sim *sim = sim_new(2);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "mr-out-0", "old\n", 4), SIM_FS_OK);
    int fd = -1;
    ck_assert_int_eq(sim_fs_create(sim, 2, "tmp-2", &fd), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write(sim, 2, fd, "new ", 4), SIM_FS_OK);
    ck_fs_text(sim, "mr-out-0", "old\n"); /* the partial temp file is not under the name */
    ck_assert_int_eq(sim_fs_rename(sim, 2, "tmp-2", "mr-out-0"), SIM_FS_OK);
    ck_fs_text(sim, "mr-out-0", "new ");
    ck_assert(!sim_fs_exists(sim, "tmp-2"));
    ck_assert_int_eq(sim_fs_write(sim, 2, fd, "line\n", 5), SIM_FS_OK);
    ck_fs_text(sim, "mr-out-0", "new line\n");
    ck_assert_int_eq(sim_fs_close(sim, 2, fd), SIM_FS_OK);
    ck_assert_uint_eq(sim_fs_count(sim), 1);
    /* Renaming to itself changes nothing; to a new name moves it in the listing. */
    ck_assert_int_eq(sim_fs_rename(sim, 2, "mr-out-0", "mr-out-0"), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_rename(sim, 2, "mr-out-0", "a-first"), SIM_FS_OK);
    ck_assert_str_eq(sim_fs_name_at(sim, 0), "a-first");
    ck_fs_text(sim, "a-first", "new line\n");
    sim_free(sim);
}
END_TEST

START_TEST(test_fs_append_truncate_remove_open)
{
    /* Goal: create truncates, append keeps; a removed file's bytes live while a descriptor is
     * open (and are freed at close: the leak check of make sanitize sees it). Seed 3. */
    struct sim *sim = sim_new(3);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "f", "abc", 3), SIM_FS_OK);
    int fd = -1;
    ck_assert_int_eq(sim_fs_append(sim, 1, "f", &fd), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write(sim, 1, fd, "def", 3), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_close(sim, 1, fd), SIM_FS_OK);
    ck_fs_text(sim, "f", "abcdef");
    ck_assert_int_eq(sim_fs_create(sim, 1, "f", &fd), SIM_FS_OK);
    ck_fs_text(sim, "f", "");
    ck_assert_int_eq(sim_fs_remove(sim, 1, "f"), SIM_FS_OK);
    ck_assert(!sim_fs_exists(sim, "f"));
    ck_assert_int_eq(sim_fs_write(sim, 1, fd, "ghost", 5), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write(sim, 2, fd, "x", 1), SIM_FS_EBADF); /* not node 2's */
    ck_assert_int_eq(sim_fs_close(sim, 2, fd), SIM_FS_EBADF);
    ck_assert_int_eq(sim_fs_close(sim, 1, fd), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_close(sim, 1, fd), SIM_FS_EBADF);
    ck_assert_int_eq(sim_fs_write(sim, 1, -1, "x", 1), SIM_FS_EBADF);
    ck_assert_uint_eq(sim_fs_count(sim), 0);
    ck_assert_uint_eq(sim_fs_open_count(sim, SIM_NODE_NONE), 0);
    sim_free(sim);
}
END_TEST

START_TEST(test_fs_node_down_keeps_partial_file)
{
    /* Goal: a process exit closes its descriptors and leaves what it wrote (a partial file, as
     * on a real disk); its later calls fail with SIM_FS_EDOWN until a new process starts on
     * the node; other nodes are unaffected. Seed 4. */
    struct sim *sim = sim_new(4);
    int fd1 = -1;
    int fd2 = -1;
    ck_assert_int_eq(sim_fs_create(sim, 1, "mr-out-3", &fd1), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write(sim, 1, fd1, "half", 4), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_create(sim, 2, "other", &fd2), SIM_FS_OK);
    ck_assert_uint_eq(sim_fs_open_count(sim, 1), 1);
    sim_fs_node_down(sim, 1);
    ck_assert_uint_eq(sim_fs_open_count(sim, 1), 0);
    ck_assert_uint_eq(sim_fs_open_count(sim, 2), 1);
    ck_fs_text(sim, "mr-out-3", "half");
    ck_assert_int_eq(sim_fs_write(sim, 1, fd1, "rest", 4), SIM_FS_EDOWN);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "late", "x", 1), SIM_FS_EDOWN);
    ck_assert_int_eq(sim_fs_rename(sim, 1, "mr-out-3", "y"), SIM_FS_EDOWN);
    ck_assert_int_eq(sim_fs_remove(sim, 1, "mr-out-3"), SIM_FS_EDOWN);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(sim_fs_read(sim, 1, "mr-out-3", &data, &len), SIM_FS_EDOWN);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(sim_fs_write(sim, 2, fd2, "ok", 2), SIM_FS_OK);
    sim_fs_node_up(sim, 1);
    ck_assert_int_eq(sim_fs_write(sim, 1, fd1, "rest", 4), SIM_FS_EBADF); /* closed at exit */
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "late", "x", 1), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_close(sim, 2, fd2), SIM_FS_OK);
    sim_free(sim);
}
END_TEST

START_TEST(test_fs_bounds)
{
    /* Goal: every bound answers with its code and changes nothing: open descriptors, names,
     * one file's size. Seed 5. */
    struct sim *sim = sim_new(5);
    int fds[SIM_FS_FDS_MAX];
    for (unsigned i = 0; i < SIM_FS_FDS_MAX; i++)
        ck_assert_int_eq(sim_fs_append(sim, 1, "shared", &fds[i]), SIM_FS_OK);
    int fd = -1;
    ck_assert_int_eq(sim_fs_append(sim, 1, "shared", &fd), SIM_FS_EFDS);
    ck_assert_int_eq(sim_fs_create(sim, 1, "new", &fd), SIM_FS_EFDS);
    ck_assert(!sim_fs_exists(sim, "new"));
    static char big[16];
    ck_assert_int_eq(sim_fs_write(sim, 1, fds[0], big, SIM_FS_FILE_BYTES_MAX + 1u), SIM_FS_ESPACE);
    size_t len = 1;
    ck_assert_int_eq(sim_fs_size(sim, "shared", &len), SIM_FS_OK);
    ck_assert_uint_eq(len, 0);
    for (unsigned i = 0; i < SIM_FS_FDS_MAX; i++)
        ck_assert_int_eq(sim_fs_close(sim, 1, fds[i]), SIM_FS_OK);
    char name[32];
    for (unsigned i = 1; i < SIM_FS_FILES_MAX; i++) {
        snprintf(name, sizeof(name), "f%05u", i);
        ck_assert_int_eq(sim_fs_write_file(sim, 1, name, NULL, 0), SIM_FS_OK);
    }
    ck_assert_uint_eq(sim_fs_count(sim), SIM_FS_FILES_MAX);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "one-more", "x", 1), SIM_FS_EFILES);
    ck_assert_uint_eq(sim_fs_count(sim), SIM_FS_FILES_MAX);
    /* A rename onto a new name needs no extra slot. */
    ck_assert_int_eq(sim_fs_rename(sim, 1, "f00001", "zzz"), SIM_FS_OK);
    ck_assert_uint_eq(sim_fs_count(sim), SIM_FS_FILES_MAX);
    sim_free(sim);
}
END_TEST

/* A fixed script of file operations; returns the sim's digest after it. */
static uint64_t fs_script_digest(uint64_t seed, const char *last_name)
{
    struct sim *sim = sim_new(seed);
    int fd = -1;
    ck_assert_int_eq(sim_fs_create(sim, 1, "tmp", &fd), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write(sim, 1, fd, "abc", 3), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_close(sim, 1, fd), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_rename(sim, 1, "tmp", last_name), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_remove(sim, 1, last_name), SIM_FS_OK);
    uint64_t digest = sim_digest(sim);
    sim_free(sim);
    return digest;
}

START_TEST(test_fs_traced_in_digest)
{
    /* Goal: file operations are part of the digest: the same script gives the same digest,
     * a different name a different one. Seed 6. */
    uint64_t a = fs_script_digest(6, "mr-out-0");
    ck_assert_uint_eq(a, fs_script_digest(6, "mr-out-0"));
    ck_assert_uint_ne(a, fs_script_digest(6, "mr-out-1"));
    struct sim *sim = sim_new(6);
    uint64_t empty = sim_digest(sim);
    sim_free(sim);
    ck_assert_uint_ne(a, empty);
}
END_TEST

START_TEST(test_fs_dump)
{
    /* Goal: the dump for users writes every file of the working directory (names without '/')
     * byte for byte, and skips the inputs named "../...". Seed 7. */
    struct sim *sim = sim_new(7);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "mr-out-0", "a 1\n", 4), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "empty", NULL, 0), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write_file(sim, 1, "../pg-x.txt", "in", 2), SIM_FS_OK);
    struct cu_dir d;
    cu_dir_make(&d, "fsdump");
    ck_assert_int_eq(sim_fs_dump(sim, d.path), SIM_FS_OK);
    char path[256];
    cu_dir_file(&d, "mr-out-0", path, sizeof(path));
    size_t len = 0;
    char *text = cu_read_file(path, &len);
    ck_assert_str_eq(text, "a 1\n");
    free(text);
    cu_dir_file(&d, "empty", path, sizeof(path));
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_int_eq(sim_fs_dump(sim, "/nonexistent-dir/x"), SIM_FS_EIO);
    cu_dir_remove(&d);
    sim_free(sim);
}
END_TEST

struct fs_hooks {
    int gate_calls;     /* gate calls seen */
    bool hold;          /* the gate holds node 1 while this is set */
    struct sim_cond go; /* broadcast when hold is cleared */
    int write_rc;
    sim_time_us write_done_us;
};

static void fs_gate(struct sim *sim, int node, void *arg)
{
    struct fs_hooks *h = arg;
    h->gate_calls++;
    while (h->hold && node == 1)
        sim_cond_wait(sim, &h->go, SIM_TIMEOUT_NEVER);
}

/* Node 1's process: writes 250 bytes to "paced" in one call. */
static void fs_writer(struct sim *sim, void *arg)
{
    struct fs_hooks *h = arg;
    static char bytes[250];
    int fd = -1;
    memset(bytes, 'x', sizeof(bytes));
    ck_assert_int_eq(sim_fs_create(sim, 1, "paced", &fd), SIM_FS_OK);
    h->write_rc = sim_fs_write(sim, 1, fd, bytes, sizeof(bytes));
    h->write_done_us = sim_now_us(sim);
}

static void fs_release(struct sim *sim, void *arg)
{
    struct fs_hooks *h = arg;
    h->hold = false;
    sim_cond_broadcast(sim, &h->go);
}

static void fs_kill_node1(struct sim *sim, void *arg)
{
    (void)arg;
    sim_fs_node_down(sim, 1);
}

static size_t fs_size(struct sim *sim, const char *name)
{
    size_t len = 0;
    return sim_fs_size(sim, name, &len) == SIM_FS_OK ? len : SIZE_MAX;
}

START_TEST(test_fs_hooks_gate_and_pace)
{
    /* Goal: the fault-injection hooks. Off (the default), a write from a task takes no virtual
     * time. With a pace of 100 bytes per ms, a 250-byte write takes 3 ms and the file grows a
     * chunk at a time; a gate is called before every step of a node's task (not the
     * harness's) and holds the task while it says so; a kill between two chunks leaves exactly
     * the chunks written and the write fails with SIM_FS_EDOWN. Seed 8. */
    struct sim *sim = sim_new(8);
    struct fs_hooks h = {0};
    sim_cond_init(&h.go);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "writer", fs_writer, &h));
    sim_run_until(sim, NULL, NULL, SIM_MS(1));
    ck_assert_int_eq(h.write_rc, SIM_FS_OK);
    ck_assert_uint_eq(h.write_done_us, 0); /* unpaced: at once */
    ck_assert_int_eq(sim_fs_set_write_pace(sim, 100, 0), SIM_FS_EINVAL);
    ck_assert_int_eq(sim_fs_set_write_pace(sim, 100, SIM_MS(1)), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_set_gate(sim, fs_gate, &h), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_write_file(sim, SIM_NODE_NONE, "harness", "x", 1), SIM_FS_OK);
    ck_assert_int_eq(h.gate_calls, 0); /* the harness is never gated or paced */
    sim_time_us t0_us = sim_now_us(sim);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "writer", fs_writer, &h));
    sim_run_until(sim, NULL, NULL, t0_us + SIM_US_PER_MS * 3 / 2);
    ck_assert_uint_eq(fs_size(sim, "paced"), 100);
    sim_run_until(sim, NULL, NULL, t0_us + SIM_MS(10));
    ck_assert_int_eq(h.write_rc, SIM_FS_OK);
    ck_assert_uint_eq(h.write_done_us - t0_us, SIM_MS(3));
    ck_assert_uint_eq(fs_size(sim, "paced"), 250);
    ck_assert_int_eq(h.gate_calls, 4); /* the create, then each of the three chunks */
    /* Held at the create for 5 ms, then killed after its first chunk. */
    h.hold = true;
    t0_us = sim_now_us(sim);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "writer", fs_writer, &h));
    sim_after(sim, SIM_MS(5), fs_release, &h);
    sim_after(sim, SIM_MS(6) + SIM_US_PER_MS / 2, fs_kill_node1, NULL);
    sim_run_until(sim, NULL, NULL, t0_us + SIM_MS(4));
    ck_assert_uint_eq(fs_size(sim, "paced"), 250); /* not yet truncated: held at the gate */
    sim_run_until(sim, NULL, NULL, t0_us + SIM_MS(20));
    ck_assert_int_eq(h.write_rc, SIM_FS_EDOWN);
    ck_assert_uint_eq(fs_size(sim, "paced"), 100);
    ck_assert_int_eq(sim_fs_set_gate(sim, NULL, NULL), SIM_FS_OK);
    ck_assert_int_eq(sim_fs_set_write_pace(sim, 0, 0), SIM_FS_OK);
    sim_free(sim);
}
END_TEST

void sim_fs_tcases_add(Suite *s)
{
    TCase *tc = tcase_create("fs");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_fs_names_and_listing);
    tcase_add_test(tc, test_fs_rename_replaces_atomically);
    tcase_add_test(tc, test_fs_append_truncate_remove_open);
    tcase_add_test(tc, test_fs_node_down_keeps_partial_file);
    tcase_add_test(tc, test_fs_bounds);
    tcase_add_test(tc, test_fs_traced_in_digest);
    tcase_add_test(tc, test_fs_dump);
    tcase_add_test(tc, test_fs_hooks_gate_and_pace);
    suite_add_tcase(s, tc);
}
