/* The smallest host: include the installed header, check the library's versions, and make one
   call that fails on purpose. */
#include <stdio.h>
#include <string.h>

#include <matnn/matnn.h>

int main(void) {
  matnn_model* model = NULL;
  const matnn_status status = matnn_model_load("no-such-model.h5", NULL, &model);
  printf("matnn %s, ABI %d: %s\n", matnn_version(), matnn_abi_version(), matnn_last_error());
  if (matnn_abi_version() != MATNN_ABI_VERSION) return 1;
  if (strcmp(matnn_version(), MATNN_VERSION_STRING) != 0) return 1;
  return status == MATNN_ERROR_IO && model == NULL ? 0 : 1;
}
