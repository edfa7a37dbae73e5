#include "CEditLineShim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

void playcount_rl_set_completion_function(playcount_completion_fn fn) {
    rl_attempted_completion_function = (rl_completion_func_t *)fn;
}

void playcount_rl_set_attempted_completion_over(int value) { rl_attempted_completion_over = value; }

void playcount_rl_set_completion_append_character(int value) { rl_completion_append_character = value; }

char *playcount_rl_copy_line_buffer(void) {
    if (rl_line_buffer == NULL) return NULL;
    return strdup(rl_line_buffer);
}

/* ---- SIGINT self-pipe ---- */

static int sigint_pipe[2] = {-1, -1};
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t prompt_interrupted = 0;

static void on_sigint(int signo) {
    (void)signo;
    int saved = errno;
    char byte = 1;
    if (sigint_pipe[1] >= 0) {
        ssize_t ignored = write(sigint_pipe[1], &byte, 1);
        (void)ignored;
    }
    errno = saved;
}

static int make_pipe(int fds[2]) {
    if (fds[0] >= 0) return 0;
    if (pipe(fds) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    /* The writer must never block (inside a signal handler or the interrupt path). */
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    return 0;
}

int playcount_sigint_install(void) {
    if (make_pipe(sigint_pipe) != 0) return -1;
    if (make_pipe(wake_pipe) != 0) return -1;
    /* The wake pipe's reader polls, so make it non-blocking for draining. */
    fcntl(wake_pipe[0], F_SETFL, fcntl(wake_pipe[0], F_GETFL) | O_NONBLOCK);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    if (sigaction(SIGINT, &action, NULL) != 0) return -1;
    return sigint_pipe[0];
}

void playcount_sigint_restore_default(void) { signal(SIGINT, SIG_DFL); }

void playcount_prompt_interrupt(void) {
    char byte = 1;
    if (wake_pipe[1] >= 0) {
        ssize_t ignored = write(wake_pipe[1], &byte, 1);
        (void)ignored;
    }
}

int playcount_prompt_take_interrupted(void) {
    int value = prompt_interrupted;
    prompt_interrupted = 0;
    return value;
}

static void drain_pipe(int fd) {
    char buffer[64];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

static void drain_wake_pipe(void) { drain_pipe(wake_pipe[0]); }

/* ---- Output while a prompt is edited ---- */

struct output_chunk {
    int fd;
    size_t length;
    struct output_chunk *next;
    char bytes[];
};

static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;
static int output_prompting = 0;
static struct output_chunk *output_head = NULL, *output_tail = NULL;
static int output_pipe[2] = {-1, -1};

static void write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, bytes, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        bytes += written;
        length -= (size_t)written;
    }
}

/* Takes the queued chunks (the caller writes and frees them). */
static struct output_chunk *take_output(void) {
    pthread_mutex_lock(&output_lock);
    struct output_chunk *chunks = output_head;
    output_head = output_tail = NULL;
    pthread_mutex_unlock(&output_lock);
    return chunks;
}

static void write_chunks(struct output_chunk *chunk) {
    while (chunk) {
        struct output_chunk *next = chunk->next;
        write_all(chunk->fd, chunk->bytes, chunk->length);
        free(chunk);
        chunk = next;
    }
}

void playcount_prompt_output_begin(void) {
    pthread_mutex_lock(&output_lock);
    if (output_pipe[0] < 0 && make_pipe(output_pipe) == 0) {
        fcntl(output_pipe[0], F_SETFL, fcntl(output_pipe[0], F_GETFL) | O_NONBLOCK);
    }
    output_prompting = output_pipe[0] >= 0;
    pthread_mutex_unlock(&output_lock);
}

void playcount_prompt_output_end(void) {
    pthread_mutex_lock(&output_lock);
    output_prompting = 0;
    pthread_mutex_unlock(&output_lock);
    write_chunks(take_output());
}

int playcount_prompt_output_post(int fd, const char *bytes, unsigned long length) {
    struct output_chunk *chunk = malloc(sizeof *chunk + length);
    if (chunk == NULL) return 0;
    pthread_mutex_lock(&output_lock);
    if (!output_prompting) {
        pthread_mutex_unlock(&output_lock);
        free(chunk);
        return 0;
    }
    chunk->fd = fd;
    chunk->length = length;
    chunk->next = NULL;
    memcpy(chunk->bytes, bytes, length);
    if (output_tail) output_tail->next = chunk; else output_head = chunk;
    output_tail = chunk;
    pthread_mutex_unlock(&output_lock);
    char byte = 1;
    ssize_t ignored = write(output_pipe[1], &byte, 1);
    (void)ignored;
    return 1;
}

/* On the prompt's thread: clear the prompt line, write what was queued, redraw the prompt and typed text. */
static void show_queued_output(void) {
    drain_pipe(output_pipe[0]);
    struct output_chunk *chunks = take_output();
    if (chunks == NULL) return;
    write_all(STDOUT_FILENO, "\r\033[K", 4);
    write_chunks(chunks);
    rl_forced_update_display();
}

static int read_byte(int fd) {
    for (;;) {
        unsigned char byte;
        ssize_t n = read(fd, &byte, 1);
        if (n == 1) return byte;
        if (n < 0 && errno == EINTR) continue;
        return EOF;
    }
}

/// Reads one character for libedit: waits on the terminal and on the wake pipe, so the shell can abandon a
/// prompt on Ctrl-C. libedit's readline turns the returned int into one wide character, so multi-byte UTF-8
/// is decoded here into its code point.
static int interruptible_getc(FILE *stream) {
    int fd = fileno(stream);
    for (;;) {
        struct pollfd fds[3];
        fds[0].fd = fd;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        /* A negative descriptor is ignored by poll. */
        fds[1].fd = wake_pipe[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        fds[2].fd = output_pipe[0];
        fds[2].events = POLLIN;
        fds[2].revents = 0;
        int ready = poll(fds, 3, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return EOF;
        }
        if (output_pipe[0] >= 0 && (fds[2].revents & POLLIN)) {
            show_queued_output();
            continue;
        }
        if (wake_pipe[0] >= 0 && (fds[1].revents & POLLIN)) {
            drain_wake_pipe();
            prompt_interrupted = 1;
            return EOF;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int first = read_byte(fd);
            if (first == EOF || first < 0x80) return first;
            int extra;
            int code;
            if ((first & 0xE0) == 0xC0) { extra = 1; code = first & 0x1F; }
            else if ((first & 0xF0) == 0xE0) { extra = 2; code = first & 0x0F; }
            else if ((first & 0xF8) == 0xF0) { extra = 3; code = first & 0x07; }
            else return 0xFFFD;
            for (int i = 0; i < extra; i++) {
                int next = read_byte(fd);
                if (next == EOF) return EOF;
                if ((next & 0xC0) != 0x80) return 0xFFFD;
                code = (code << 6) | (next & 0x3F);
            }
            return code;
        }
    }
}

void playcount_rl_configure(const char *name) {
    rl_readline_name = strdup(name);
    rl_catch_signals = 0;
    rl_getc_function = interruptible_getc;
    rl_completion_append_character = ' ';
    /* Words are separated the way the shell's tokenizer separates them (libedit's default also breaks at
       = < > and quotes, which would split `expect calls <=` oddly). */
    rl_basic_word_break_characters = " \t\n";
    rl_completer_word_break_characters = (char *)" \t\n";
}
