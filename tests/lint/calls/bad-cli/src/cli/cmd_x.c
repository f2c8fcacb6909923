/* A command calling another command's logic. */
int ew_cmd_x(void);
int ew_cmd_y(void);

int
ew_cmd_x(void)
{
	return ew_cmd_y();
}
