/*
 * fuzz.h - the fuzz entry point every target defines.  Built with
 * libFuzzer (cmake --preset fuzz) it is called by the fuzzer; otherwise
 * driver_replay.c supplies a main() that feeds it every file of a corpus
 * directory, so each CI run replays every input ever kept.
 */
#ifndef EW_FUZZ_H
#define EW_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the process (abort) when an invariant fails: a finding. */
#define EW_FUZZ_ASSERT(c)                                                      \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: invariant failed: %s\n",       \
			    __FILE__, __LINE__, #c);                           \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
