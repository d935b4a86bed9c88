/* SPDX-License-Identifier: MPL-2.0 */
/* placeholder: being written */
