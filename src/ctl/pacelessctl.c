/* SPDX-License-Identifier: MPL-2.0 */
/* placeholder */
int main(void)
{
	return 1;
}
