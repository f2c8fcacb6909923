/* The other command. */
int ew_cmd_y(void);

int
ew_cmd_y(void)
{
	return 0;
}
