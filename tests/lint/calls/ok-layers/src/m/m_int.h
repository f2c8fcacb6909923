/* The module's insides: c.c at the bottom, b.c over it, a.c on top. */
typedef int (*ew_fn)(int);
int ew_a(int);
int ew_a_step(int);
int ew_b(int);
int ew_c(int, ew_fn);
#define RUN(x, fn) ew_c(x, fn)
