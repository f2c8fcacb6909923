/* A macro of the module's header that calls a.c's function. */
int ew_a(int);
int ew_b(int);
#define NOTE(x) ew_a(x)
