/* Takes the address of every public function of matnn.h, so that a removed or renamed symbol
   fails the link, and compiles the header as plain C99 (-pedantic). Add every new function here. */
#include <stdio.h>
#include <string.h>

#include "matnn/matnn.h"

typedef void (*any_function)(void);

int main(void) {
  /* Casting between function pointer types is allowed in C; the pointers are only compared. */
  const any_function functions[] = {
      (any_function)matnn_version,
      (any_function)matnn_abi_version,
      (any_function)matnn_status_string,
      (any_function)matnn_last_error,
      (any_function)matnn_load_options_init,
      (any_function)matnn_model_load,
      (any_function)matnn_model_destroy,
      (any_function)matnn_model_last_error,
      (any_function)matnn_model_kind_of,
      (any_function)matnn_model_units,
      (any_function)matnn_model_precision,
      (any_function)matnn_model_num_species,
      (any_function)matnn_model_species,
      (any_function)matnn_model_cutoff,
      (any_function)matnn_model_interaction_range,
      (any_function)matnn_model_ensemble_size,
      (any_function)matnn_model_outputs,
      (any_function)matnn_potential_results_init,
      (any_function)matnn_potential_results_init2,
      (any_function)matnn_potential_compute,
      (any_function)matnn_potential_compute_local,
      (any_function)matnn_potential_compute_local2,
      (any_function)matnn_property_name,
      (any_function)matnn_property_unit,
      (any_function)matnn_property_task,
      (any_function)matnn_property_num_classes,
      (any_function)matnn_property_predict_compositions,
      (any_function)matnn_property_predict_structures,
      (any_function)matnn_property_predict_atoms,
      (any_function)matnn_property_embedding_width,
      (any_function)matnn_property_embed_atoms,
      (any_function)matnn_property_predict_atoms_mc,
      (any_function)matnn_train,
      (any_function)matnn_train_comm,
      (any_function)matnn_dataset_append,
      (any_function)matnn_property_input,
      (any_function)matnn_property_spectrum_axis,
      (any_function)matnn_property_predict_spectra,
      (any_function)matnn_property_predict_images,
  };
  size_t i;
  int failures = 0;
  for (i = 0; i < sizeof functions / sizeof functions[0]; ++i) {
    if (functions[i] == NULL) ++failures;
  }
  if (matnn_abi_version() != MATNN_ABI_VERSION) {
    fprintf(stderr, "library ABI %d, header ABI %d\n", matnn_abi_version(), MATNN_ABI_VERSION);
    ++failures;
  }
  if (strcmp(matnn_version(), MATNN_VERSION_STRING) != 0) {
    fprintf(stderr, "library %s, header %s\n", matnn_version(), MATNN_VERSION_STRING);
    ++failures;
  }
  printf("%u functions, matnn %s, ABI %d\n", (unsigned)(sizeof functions / sizeof functions[0]), matnn_version(),
         matnn_abi_version());
  return failures;
}
