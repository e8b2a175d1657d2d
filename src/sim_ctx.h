/* sim_ctx: switching between a task's stack and the scheduler's stack.
 *
 * On x86-64 a six-register switch in assembly (callee-saved registers and the stack pointer);
 * elsewhere POSIX ucontext. The choice, and the AddressSanitizer fiber annotations that keep
 * ASan's view of the stack right across switches, live in this header only (no #ifdef in .c
 * files). Included by src/sim_task.c and src/sim_int.h only.
 */
#ifndef SIM_CTX_H
#define SIM_CTX_H

#include <stddef.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SIM_CTX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_CTX_ASAN 1
#endif
#endif

#if defined(SIM_CTX_ASAN)
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);
/* A reused stack still carries the poisoned redzones of the frames that were on it. */
#define SIM_CTX_SAN_UNPOISON(addr, size) __asan_unpoison_memory_region(addr, size)
#define SIM_CTX_SAN_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define SIM_CTX_SAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define SIM_CTX_SAN_UNPOISON(addr, size) ((void)(addr), (void)(size))
#define SIM_CTX_SAN_START(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define SIM_CTX_SAN_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

typedef void (*sim_ctx_entry_fn)(void *arg);

#if defined(__x86_64__) && !defined(SIM_CTX_FORCE_UCONTEXT)

struct sim_ctx {
    void *sp;
    void *fake_stack;         /* ASan bookkeeping */
    const void *stack_bottom; /* for ASan: the stack this context runs on */
    size_t stack_size;
};

/* Saves callee-saved registers on the current stack, stores the stack pointer in *from_sp,
 * loads to_sp and restores the registers saved there. */
void sim_ctx_swap(void **from_sp, void *to_sp);

/* The assembly itself; expanded once, at file scope, in src/sim_task.c. */
// clang-format off
#define SIM_CTX_ASM_DEFINITIONS                                                               \
__asm__(".text\n" \
        ".globl sim_ctx_swap\n" \
        ".type sim_ctx_swap,@function\n" \
        "sim_ctx_swap:\n" \
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n" \
        "  movq %rsp, (%rdi)\n" \
        "  movq %rsi, %rsp\n" \
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n" \
        "  ret\n" \
        ".size sim_ctx_swap, .-sim_ctx_swap\n" \
        ".globl sim_ctx_trampoline\n" \
        ".type sim_ctx_trampoline,@function\n" \
        "sim_ctx_trampoline:\n" \
        "  movq %rbx, %rdi\n" \
        "  callq *%r12\n" \
        "  ud2\n" \
        ".size sim_ctx_trampoline, .-sim_ctx_trampoline\n")
// clang-format on
void sim_ctx_trampoline(void);

/* Prepares ctx to start entry(arg) on [stack, stack + size). The first switch to it pops six
 * registers (r15 r14 r13 r12 rbx rbp) and returns into the trampoline, which calls
 * entry(rbx=arg) through r12 with the stack aligned as the ABI wants at a call. */
static inline void sim_ctx_make(struct sim_ctx *ctx, void *stack, size_t size,
                                sim_ctx_entry_fn entry, void *arg)
{
    SIM_CTX_SAN_UNPOISON(stack, size);
    unsigned char *top = (unsigned char *)stack + size;
    top = (unsigned char *)((size_t)top & ~(size_t)15);
    /* The trampoline's return slot sits at 8 mod 16: after `ret` pops it rsp is 0 mod 16,
     * and the trampoline's `call` then enters entry() with rsp at 8 mod 16, as the ABI says. */
    void **sp = (void **)(top - 16);
    void (*tramp)(void) = sim_ctx_trampoline;
    sp -= 1;
    memcpy(sp, &tramp, sizeof(tramp)); /* function pointers may not be cast to void * */
    *--sp = NULL;                      /* rbp */
    *--sp = arg;                       /* rbx */
    sp -= 1;
    memcpy(sp, &entry, sizeof(entry)); /* r12 */
    *--sp = NULL;                      /* r13 */
    *--sp = NULL;                      /* r14 */
    *--sp = NULL;                      /* r15 */
    ctx->sp = sp;
    ctx->fake_stack = NULL;
    ctx->stack_bottom = stack;
    ctx->stack_size = size;
}

static inline void sim_ctx_switch_raw(struct sim_ctx *from, struct sim_ctx *to)
{
    sim_ctx_swap(&from->sp, to->sp);
}

#else /* ucontext fallback */

#define SIM_CTX_ASM_DEFINITIONS _Static_assert(1, "ucontext needs no assembly")

#include <stdint.h>
#include <ucontext.h>

struct sim_ctx {
    ucontext_t uc;
    sim_ctx_entry_fn entry;
    void *entry_arg;
    void *fake_stack;
    const void *stack_bottom;
    size_t stack_size;
};

/* makecontext passes int arguments only, so the entry and its argument travel in the
 * context struct itself and a fixed trampoline picks them up. */
static inline void sim_ctx_uc_trampoline(unsigned int hi, unsigned int lo)
{
    struct sim_ctx *ctx = (struct sim_ctx *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
    ctx->entry(ctx->entry_arg);
}

static inline void sim_ctx_make(struct sim_ctx *ctx, void *stack, size_t size,
                                sim_ctx_entry_fn entry, void *arg)
{
    uintptr_t self = (uintptr_t)ctx;
    SIM_CTX_SAN_UNPOISON(stack, size);
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    ctx->entry = entry;
    ctx->entry_arg = arg;
    makecontext(&ctx->uc, (void (*)(void))sim_ctx_uc_trampoline, 2, (unsigned int)(self >> 32),
                (unsigned int)(self & 0xffffffffu));
    ctx->fake_stack = NULL;
    ctx->stack_bottom = stack;
    ctx->stack_size = size;
}

static inline void sim_ctx_switch_raw(struct sim_ctx *from, struct sim_ctx *to)
{
    swapcontext(&from->uc, &to->uc);
}

#endif

/* Switches from `from` to `to`, keeping ASan informed. `from_exiting` says `from` will never
 * run again (its fake stack can go). Returns when something switches back to `from`; the stack
 * that switched back is then recorded in `prev` (when not NULL), which is how the scheduler's
 * stack bounds become known. */
static inline void sim_ctx_switch(struct sim_ctx *from, struct sim_ctx *to, int from_exiting,
                                  struct sim_ctx *prev)
{
    SIM_CTX_SAN_START(from_exiting ? NULL : &from->fake_stack, to->stack_bottom, to->stack_size);
    sim_ctx_switch_raw(from, to);
    const void *bottom_old = NULL;
    size_t size_old = 0;
    SIM_CTX_SAN_FINISH(from->fake_stack, &bottom_old, &size_old);
    if (prev != NULL && bottom_old != NULL) {
        prev->stack_bottom = bottom_old;
        prev->stack_size = size_old;
    }
}

/* Called first thing on a new context's stack: completes the switch that started it. */
static inline void sim_ctx_entered(struct sim_ctx *prev)
{
    const void *bottom_old = NULL;
    size_t size_old = 0;
    SIM_CTX_SAN_FINISH(NULL, &bottom_old, &size_old);
    if (prev != NULL && bottom_old != NULL) {
        prev->stack_bottom = bottom_old;
        prev->stack_size = size_old;
    }
}

#endif /* SIM_CTX_H */
