#ifndef PLAYCOUNT_CEDITLINE_SHIM_H
#define PLAYCOUNT_CEDITLINE_SHIM_H

/// Tiny C setters and getters around libedit's mutable globals (Swift 6 cannot touch mutable C globals),
/// plus the SIGINT plumbing the shell needs: an async-signal-safe handler that writes to a self-pipe, and a
/// line-reader hook that returns EOF (with a flag) when the shell asks it to abandon the current prompt.

/// Signature of the completion callback: text is the word being completed, start/end its byte offsets in
/// the line. Returns a malloc'd NULL-terminated array (readline convention) or NULL.
typedef char **(*playcount_completion_fn)(const char *text, int start, int end);

/// Installs `fn` as rl_attempted_completion_function.
void playcount_rl_set_completion_function(playcount_completion_fn fn);
/// Sets rl_attempted_completion_over (1: do not fall back to file name completion).
void playcount_rl_set_attempted_completion_over(int value);
/// Sets rl_completion_append_character.
void playcount_rl_set_completion_append_character(int value);
/// Sets rl_readline_name (used by ~/.editrc) and word break characters; turns off libedit's own signal
/// handling so the shell's SIGINT handler stays in charge; installs the interruptible character reader.
void playcount_rl_configure(const char *name);
/// A copy of the whole current line (rl_line_buffer), or NULL. The caller frees it.
char *playcount_rl_copy_line_buffer(void);

/// Installs the SIGINT handler (no SA_RESTART) and returns the read end of its self-pipe, or -1 on error.
/// Each SIGINT writes one byte to the pipe.
int playcount_sigint_install(void);
/// Restores the default SIGINT disposition.
void playcount_sigint_restore_default(void);

/// Makes a prompt that is currently waiting for input give up: readline returns NULL and
/// playcount_prompt_take_interrupted() returns 1 afterwards. Safe to call from any thread.
void playcount_prompt_interrupt(void);
/// Returns 1 (once) if the last NULL from readline came from playcount_prompt_interrupt, else 0.
int playcount_prompt_take_interrupted(void);

/// Output that arrives while a prompt is being edited (a client's line, a warning) must not mix with the
/// typed text: it is handed to the prompt's thread, which clears the prompt line, writes the text and redraws
/// the prompt with the text typed so far. `begin` and `end` bracket one readline() call.
void playcount_prompt_output_begin(void);
/// Ends the bracket; output still queued is written before it returns.
void playcount_prompt_output_end(void);
/// Queues `length` bytes for descriptor `fd` (1 or 2) and returns 1 while a prompt is being edited; returns 0
/// otherwise, and the caller writes them itself. Safe to call from any thread.
int playcount_prompt_output_post(int fd, const char *bytes, unsigned long length);

#endif
