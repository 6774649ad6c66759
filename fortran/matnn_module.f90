!> matnn: the Fortran 2003 interface to matnn's C ABI (include/matnn/matnn.h, libmatnn.so).
!>
!> Two layers in one module:
!>
!> 1. `bind(C)` interfaces with the C names (matnn_model_load, matnn_potential_compute, ...),
!>    the C constants (MATNN_SUCCESS, MATNN_UNITS_METAL, MATNN_OUTPUT_FORCES, ...) and the two
!>    C structs (matnn_load_options, matnn_potential_results). Array arguments are type(c_ptr)
!>    so that NULL ("not wanted") can be passed; pass c_loc(x) of a `target` array.
!>
!> 2. Derived types that own a model handle, for everyday use:
!>      type(matnn_potential)      : energy, forces, stress, per-atom virials, uncertainties
!>      type(matnn_property_model) : a property predicted from compositions or structures
!>    Each holds a private type(c_ptr) that is c_null_ptr until load(); destroy() releases it
!>    and a final procedure releases it when the object goes out of scope. Copying a loaded
!>    object (a = b) stops the program: two objects would own one handle.
!>
!> Errors: every procedure takes an optional `status` (integer, intent(out)). When present it
!> receives a MATNN_* code (MATNN_SUCCESS = 0) and the program continues; matnn_error_message()
!> returns the text. When absent, a failure prints the message on error_unit and ends the program
!> with `error stop`.
!>
!> Layout: Fortran is column-major and C row-major, so a Fortran array declared (3, natoms) is the
!> same memory as C's natoms x 3 positions and forces: x, y, z of atom i are positions(1:3, i).
!> The cell is cell(3, 3) whose COLUMNS are the lattice vectors (cell(:, 1) = a, cell(:, 2) = b,
!> cell(:, 3) = c), which is the same memory as C's rows (and as ASE's atoms.cell rows).
!> Arrays are passed to C without copies when they are contiguous.
!>
!> Units are those chosen at load (MATNN_UNITS_METAL: eV and Angstrom, the default), see the
!> table in matnn.h. Strings (paths) are trimmed of trailing blanks and NUL-terminated here.
module matnn
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
  private

  ! ---- status codes (include/matnn/status.h; fixed numbers) ----------------------------------
  integer(c_int), parameter, public :: MATNN_SUCCESS = 0
  integer(c_int), parameter, public :: MATNN_ERROR_INVALID_ARGUMENT = 1
  integer(c_int), parameter, public :: MATNN_ERROR_IO = 2
  integer(c_int), parameter, public :: MATNN_ERROR_FORMAT = 3
  integer(c_int), parameter, public :: MATNN_ERROR_UNKNOWN_ELEMENT = 4
  integer(c_int), parameter, public :: MATNN_ERROR_NON_FINITE = 5
  integer(c_int), parameter, public :: MATNN_ERROR_SINGULAR_CELL = 6
  integer(c_int), parameter, public :: MATNN_ERROR_GEOMETRY = 7
  integer(c_int), parameter, public :: MATNN_ERROR_MODEL = 8
  integer(c_int), parameter, public :: MATNN_ERROR_UNSUPPORTED = 9
  integer(c_int), parameter, public :: MATNN_ERROR_CANCELLED = 10
  integer(c_int), parameter, public :: MATNN_ERROR_MPI = 11
  integer(c_int), parameter, public :: MATNN_ERROR_OUT_OF_MEMORY = 12
  integer(c_int), parameter, public :: MATNN_ERROR_INTERNAL = 99

  ! ---- enums of matnn.h ----------------------------------------------------------------------
  integer(c_int), parameter, public :: MATNN_UNITS_METAL = 0, MATNN_UNITS_ATOMIC = 1, MATNN_UNITS_REAL = 2
  integer(c_int), parameter, public :: MATNN_PRECISION_FLOAT32 = 0, MATNN_PRECISION_FLOAT64 = 1
  integer(c_int), parameter, public :: MATNN_MODEL_POTENTIAL = 1, MATNN_MODEL_PROPERTY = 2
  integer(c_int), parameter, public :: MATNN_TASK_REGRESSION = 0, MATNN_TASK_CLASSIFICATION = 1
  ! Output flags of matnn_model_outputs() (an unsigned int in C; the same bits here).
  integer(c_int), parameter, public :: MATNN_OUTPUT_ENERGY = int(z'0001', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_ENERGIES = int(z'0002', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_FORCES = int(z'0004', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_STRESS = int(z'0008', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_ENERGY_SIGMA = int(z'0010', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_FORCE_DEVIATION = int(z'0020', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_PROPERTY_VALUE = int(z'0100', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_PROPERTY_SIGMA = int(z'0200', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_PROPERTY_PROBABILITIES = int(z'0400', c_int)
  integer(c_int), parameter, public :: MATNN_OUTPUT_PROPERTY_OOD = int(z'0800', c_int)

  ! ---- the C structs (fill them with the *_init functions) ----------------------------------
  type, bind(C), public :: matnn_load_options
    integer(c_size_t) :: struct_size
    integer(c_int) :: units
    integer(c_int) :: precision
  end type matnn_load_options

  !> Output pointers: c_loc(x) of a target, or c_null_ptr for "not wanted". Initialise it with
  !> matnn_potential_results_init2(results, c_sizeof(results)) so that the library reads every
  !> field declared here (the deprecated matnn_potential_results_init makes it ignore virials).
  type, bind(C), public :: matnn_potential_results
    integer(c_size_t) :: struct_size
    type(c_ptr) :: energy, energies, forces, stress, energy_sigma, force_deviation, max_force_deviation
    type(c_ptr) :: virials  ! since ABI 2: double(6, natoms)
  end type matnn_potential_results

  ! ---- layer 1: the C functions ---------------------------------------------------------------
  public :: matnn_version, matnn_abi_version, matnn_status_string, matnn_last_error
  public :: matnn_load_options_init, matnn_model_load, matnn_model_destroy, matnn_model_last_error
  public :: matnn_model_kind_of, matnn_model_units, matnn_model_precision, matnn_model_num_species
  public :: matnn_model_species, matnn_model_cutoff, matnn_model_interaction_range
  public :: matnn_model_ensemble_size, matnn_model_outputs
  public :: matnn_potential_results_init2, matnn_potential_results_init, matnn_potential_compute
  public :: matnn_potential_compute_local, matnn_potential_compute_local2
  public :: matnn_property_name, matnn_property_unit, matnn_property_task, matnn_property_num_classes
  public :: matnn_property_predict_compositions, matnn_property_predict_structures, matnn_train
  public :: matnn_property_predict_atoms, matnn_property_embedding_width, matnn_property_embed_atoms
  public :: matnn_property_predict_atoms_mc
  public :: matnn_property_input, matnn_property_spectrum_axis, matnn_property_predict_spectra
  public :: matnn_property_predict_images
  public :: matnn_progress_callback

  interface
    function matnn_version() bind(C, name="matnn_version") result(version)
      import :: c_ptr
      type(c_ptr) :: version
    end function matnn_version

    function matnn_abi_version() bind(C, name="matnn_abi_version") result(abi)
      import :: c_int
      integer(c_int) :: abi
    end function matnn_abi_version

    function matnn_status_string(status) bind(C, name="matnn_status_string") result(name)
      import :: c_int, c_ptr
      integer(c_int), value :: status
      type(c_ptr) :: name
    end function matnn_status_string

    function matnn_last_error() bind(C, name="matnn_last_error") result(message)
      import :: c_ptr
      type(c_ptr) :: message
    end function matnn_last_error

    function matnn_load_options_init(options) bind(C, name="matnn_load_options_init") result(status)
      import :: c_int, matnn_load_options
      type(matnn_load_options), intent(out) :: options
      integer(c_int) :: status
    end function matnn_load_options_init

    !> path: NUL-terminated (use trim(path)//c_null_char); options: pass c_loc(opts) or c_null_ptr.
    function matnn_model_load(path, options, model) bind(C, name="matnn_model_load") result(status)
      import :: c_int, c_char, c_ptr
      character(kind=c_char), intent(in) :: path(*)
      type(c_ptr), value :: options
      type(c_ptr), intent(out) :: model
      integer(c_int) :: status
    end function matnn_model_load

    subroutine matnn_model_destroy(model) bind(C, name="matnn_model_destroy")
      import :: c_ptr
      type(c_ptr), value :: model
    end subroutine matnn_model_destroy

    function matnn_model_last_error(model) bind(C, name="matnn_model_last_error") result(message)
      import :: c_ptr
      type(c_ptr), value :: model
      type(c_ptr) :: message
    end function matnn_model_last_error

    function matnn_model_kind_of(model, model_kind) bind(C, name="matnn_model_kind_of") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: model_kind
      integer(c_int) :: status
    end function matnn_model_kind_of

    function matnn_model_units(model, units) bind(C, name="matnn_model_units") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: units
      integer(c_int) :: status
    end function matnn_model_units

    function matnn_model_precision(model, precision) bind(C, name="matnn_model_precision") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: precision
      integer(c_int) :: status
    end function matnn_model_precision

    function matnn_model_num_species(model, n) bind(C, name="matnn_model_num_species") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: n
      integer(c_int) :: status
    end function matnn_model_num_species

    function matnn_model_species(model, atomic_numbers) bind(C, name="matnn_model_species") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: atomic_numbers(*)
      integer(c_int) :: status
    end function matnn_model_species

    function matnn_model_cutoff(model, cutoff) bind(C, name="matnn_model_cutoff") result(status)
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), intent(out) :: cutoff
      integer(c_int) :: status
    end function matnn_model_cutoff

    function matnn_model_interaction_range(model, interaction_range) &
        bind(C, name="matnn_model_interaction_range") result(status)
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), intent(out) :: interaction_range
      integer(c_int) :: status
    end function matnn_model_interaction_range

    function matnn_model_ensemble_size(model, n) bind(C, name="matnn_model_ensemble_size") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: n
      integer(c_int) :: status
    end function matnn_model_ensemble_size

    !> flags: C's unsigned int, received in an integer(c_int) of the same bits.
    function matnn_model_outputs(model, flags) bind(C, name="matnn_model_outputs") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: flags
      integer(c_int) :: status
    end function matnn_model_outputs

    !> struct_size: c_sizeof(results). Since ABI 2.
    function matnn_potential_results_init2(results, struct_size) bind(C, name="matnn_potential_results_init2") &
        result(status)
      import :: c_int, c_size_t, matnn_potential_results
      type(matnn_potential_results), intent(out) :: results
      integer(c_size_t), value :: struct_size
      integer(c_int) :: status
    end function matnn_potential_results_init2

    !> Deprecated since ABI 2: initialises ABI 1's fields only (virials are then ignored).
    function matnn_potential_results_init(results) bind(C, name="matnn_potential_results_init") result(status)
      import :: c_int, matnn_potential_results
      type(matnn_potential_results), intent(out) :: results
      integer(c_int) :: status
    end function matnn_potential_results_init

    !> atomic_numbers: int[natoms]; positions: double(3, natoms); cell: double(3, 3) with the lattice
    !> vectors as columns, or c_null_ptr; pbc: int[3] or c_null_ptr.
    function matnn_potential_compute(model, natoms, atomic_numbers, positions, cell, pbc, results) &
        bind(C, name="matnn_potential_compute") result(status)
      import :: c_int, c_ptr, matnn_potential_results
      type(c_ptr), value :: model
      integer(c_int), value :: natoms
      type(c_ptr), value :: atomic_numbers, positions, cell, pbc
      type(matnn_potential_results), intent(inout) :: results
      integer(c_int) :: status
    end function matnn_potential_compute

    function matnn_potential_compute_local(model, natoms_local, natoms_ghost, atomic_numbers, positions, &
        energy_counts, results) bind(C, name="matnn_potential_compute_local") result(status)
      import :: c_int, c_ptr, matnn_potential_results
      type(c_ptr), value :: model
      integer(c_int), value :: natoms_local, natoms_ghost
      type(c_ptr), value :: atomic_numbers, positions, energy_counts
      type(matnn_potential_results), intent(inout) :: results
      integer(c_int) :: status
    end function matnn_potential_compute_local

    !> compute_local with the host's CSR neighbour list: neighbor_offsets int[natoms + 1] and
    !> neighbors int[offsets[natoms]], 0-based as in C; both c_null_ptr: matnn searches. Since ABI 2.
    function matnn_potential_compute_local2(model, natoms_local, natoms_ghost, atomic_numbers, positions, &
        energy_counts, neighbor_offsets, neighbors, results) bind(C, name="matnn_potential_compute_local2") &
        result(status)
      import :: c_int, c_ptr, matnn_potential_results
      type(c_ptr), value :: model
      integer(c_int), value :: natoms_local, natoms_ghost
      type(c_ptr), value :: atomic_numbers, positions, energy_counts, neighbor_offsets, neighbors
      type(matnn_potential_results), intent(inout) :: results
      integer(c_int) :: status
    end function matnn_potential_compute_local2

    function matnn_property_name(model, name) bind(C, name="matnn_property_name") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      type(c_ptr), intent(out) :: name
      integer(c_int) :: status
    end function matnn_property_name

    function matnn_property_unit(model, unit) bind(C, name="matnn_property_unit") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      type(c_ptr), intent(out) :: unit
      integer(c_int) :: status
    end function matnn_property_unit

    function matnn_property_task(model, task) bind(C, name="matnn_property_task") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: task
      integer(c_int) :: status
    end function matnn_property_task

    function matnn_property_num_classes(model, n_classes) bind(C, name="matnn_property_num_classes") &
        result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: n_classes
      integer(c_int) :: status
    end function matnn_property_num_classes

    !> fractions: double(n_elements, n); probabilities: double(n_classes, n) or c_null_ptr.
    function matnn_property_predict_compositions(model, n, n_elements, atomic_numbers, fractions, &
        mc_samples, values, sigmas, ood, probabilities) &
        bind(C, name="matnn_property_predict_compositions") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: n, n_elements
      type(c_ptr), value :: atomic_numbers, fractions
      integer(c_int), value :: mc_samples
      type(c_ptr), value :: values, sigmas, ood, probabilities
      integer(c_int) :: status
    end function matnn_property_predict_compositions

    function matnn_property_predict_structures(model, n_structures, natoms, atomic_numbers, mc_samples, &
        values, sigmas, ood, probabilities) bind(C, name="matnn_property_predict_structures") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: n_structures
      type(c_ptr), value :: natoms, atomic_numbers
      integer(c_int), value :: mc_samples
      type(c_ptr), value :: values, sigmas, ood, probabilities
      integer(c_int) :: status
    end function matnn_property_predict_structures

    !> Since ABI 3: structures with positions(3, sum natoms), cells(3, 3, n) (column k the lattice
    !> vector k) or c_null_ptr, pbc(3, n) or c_null_ptr.
    function matnn_property_predict_atoms(model, n_structures, natoms, atomic_numbers, positions, cells, pbc, &
        mc_samples, values, sigmas, ood, probabilities) bind(C, name="matnn_property_predict_atoms") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: n_structures
      type(c_ptr), value :: natoms, atomic_numbers, positions, cells, pbc
      integer(c_int), value :: mc_samples
      type(c_ptr), value :: values, sigmas, ood, probabilities
      integer(c_int) :: status
    end function matnn_property_predict_atoms

    !> Since ABI 4: matnn_property_predict_atoms with Monte-Carlo dropout from the caller's seed
    !> (a uint64_t in C: any integer(c_int64_t), its bits taken as they are).
    function matnn_property_predict_atoms_mc(model, n_structures, natoms, atomic_numbers, positions, cells, pbc, &
        mc_samples, seed, values, sigmas, ood, probabilities) bind(C, name="matnn_property_predict_atoms_mc") &
        result(status)
      import :: c_int, c_int64_t, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: n_structures
      type(c_ptr), value :: natoms, atomic_numbers, positions, cells, pbc
      integer(c_int), value :: mc_samples
      integer(c_int64_t), value :: seed
      type(c_ptr), value :: values, sigmas, ood, probabilities
      integer(c_int) :: status
    end function matnn_property_predict_atoms_mc

    !> Since ABI 3.
    function matnn_property_embedding_width(model, width) bind(C, name="matnn_property_embedding_width") &
        result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: width
      integer(c_int) :: status
    end function matnn_property_embedding_width

    !> Since ABI 3: embeddings(width, n).
    function matnn_property_embed_atoms(model, n_structures, natoms, atomic_numbers, positions, cells, pbc, &
        embeddings) bind(C, name="matnn_property_embed_atoms") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: n_structures
      type(c_ptr), value :: natoms, atomic_numbers, positions, cells, pbc, embeddings
      integer(c_int) :: status
    end function matnn_property_embed_atoms

    !> Since ABI 7: what a property model reads (0 structures, 1 spectra, 2 images) and its shape.
    function matnn_property_input(model, input, channels, points, width) bind(C, name="matnn_property_input") &
        result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: input, channels, points, width
      integer(c_int) :: status
    end function matnn_property_input

    !> Since ABI 7: a spectrum model's grid, axis(points); name and unit as C strings (c_ptr).
    function matnn_property_spectrum_axis(model, axis, name, unit) bind(C, name="matnn_property_spectrum_axis") &
        result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model, axis, name, unit
      integer(c_int) :: status
    end function matnn_property_spectrum_axis

    !> Since ABI 7: intensities(points, channels, n) in Fortran order is the C layout
    !> [n][channels][points]; outputs as matnn_property_predict_atoms_mc, embeddings(width, n).
    function matnn_property_predict_spectra(model, n_spectra, n_channels, n_points, axis, intensities, &
        mc_samples, seed, values, sigmas, ood, probabilities, embeddings) &
        bind(C, name="matnn_property_predict_spectra") result(status)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: model
      integer(c_int), value :: n_spectra, n_channels, n_points, mc_samples
      integer(c_int64_t), value :: seed
      type(c_ptr), value :: axis, intensities, values, sigmas, ood, probabilities, embeddings
      integer(c_int) :: status
    end function matnn_property_predict_spectra

    !> Since ABI 7: pixels(width, height, channels, n) in Fortran order is the C layout
    !> [n][channels][height][width]; pixel_sizes(n).
    function matnn_property_predict_images(model, n_images, n_channels, height, width, pixel_sizes, pixels, &
        mc_samples, seed, values, sigmas, ood, probabilities, embeddings) &
        bind(C, name="matnn_property_predict_images") result(status)
      import :: c_int, c_ptr, c_int64_t
      type(c_ptr), value :: model
      integer(c_int), value :: n_images, n_channels, height, width, mc_samples
      integer(c_int64_t), value :: seed
      type(c_ptr), value :: pixel_sizes, pixels, values, sigmas, ood, probabilities, embeddings
      integer(c_int) :: status
    end function matnn_property_predict_images

    !> config_path: NUL-terminated; output_model_path: c_loc of a NUL-terminated string or
    !> c_null_ptr; callback: c_funloc of a matnn_progress_callback or c_null_funptr.
    function matnn_train(config_path, output_model_path, callback, user_data) bind(C, name="matnn_train") &
        result(status)
      import :: c_int, c_char, c_ptr, c_funptr
      character(kind=c_char), intent(in) :: config_path(*)
      type(c_ptr), value :: output_model_path
      type(c_funptr), value :: callback
      type(c_ptr), value :: user_data
      integer(c_int) :: status
    end function matnn_train

    !> matnn_train() on the ranks of an MPI communicator, given as its Fortran handle (ABI 5).
    function matnn_train_comm(config_path, output_model_path, fortran_comm, callback, user_data) &
        bind(C, name="matnn_train_comm") result(status)
      import :: c_int, c_char, c_ptr, c_funptr
      character(kind=c_char), intent(in) :: config_path(*)
      type(c_ptr), value :: output_model_path
      integer(c_int), value :: fortran_comm
      type(c_funptr), value :: callback
      type(c_ptr), value :: user_data
      integer(c_int) :: status
    end function matnn_train_comm

    !> Appends labelled structures to a training dataset (ABI 6).
    function matnn_dataset_append(path, units, nstructures, natoms, atomic_numbers, positions, cells, pbc, &
                                  energies, forces, stresses, config_type) &
        bind(C, name="matnn_dataset_append") result(status)
      import :: c_int, c_char, c_ptr
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value :: units, nstructures
      type(c_ptr), value :: natoms, atomic_numbers, positions, cells, pbc, energies, forces, stresses, config_type
      integer(c_int) :: status
    end function matnn_dataset_append

    !> strlen(3), to read the C strings matnn returns.
    function c_strlen(s) bind(C, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: n
    end function c_strlen
  end interface

  !> The progress callback of matnn_train(): return 0 to continue, non-zero to cancel.
  !> validation_loss is NaN when there is no validation set.
  abstract interface
    function matnn_progress_callback(epoch, epochs, train_loss, validation_loss, user_data) bind(C) &
        result(stop_training)
      import :: c_int, c_double, c_ptr
      integer(c_int), value :: epoch, epochs
      real(c_double), value :: train_loss, validation_loss
      type(c_ptr), value :: user_data
      integer(c_int) :: stop_training
    end function matnn_progress_callback
  end interface

  ! ---- layer 2: module procedures and the handle types ----------------------------------------
  public :: matnn_version_string, matnn_status_name, matnn_error_message, matnn_train_model, matnn_append_dataset

  !> What both model types share: the owned handle and the queries every model answers.
  type, public :: matnn_model_handle
    private
    type(c_ptr) :: handle = c_null_ptr
  contains
    procedure :: destroy => handle_destroy
    procedure :: is_loaded => handle_is_loaded
    procedure :: c_handle => handle_c_handle
    procedure :: kind => handle_kind
    procedure :: units => handle_units
    procedure :: precision => handle_precision
    procedure :: num_species => handle_num_species
    procedure :: species => handle_species
    procedure :: ensemble_size => handle_ensemble_size
    procedure :: outputs => handle_outputs
    procedure, private :: assign_handle
    generic :: assignment(=) => assign_handle
    final :: handle_finalize
  end type matnn_model_handle

  !> An interatomic potential.
  type, extends(matnn_model_handle), public :: matnn_potential
  contains
    procedure :: load => potential_load
    procedure :: compute => potential_compute
    procedure :: compute_local => potential_compute_local
    procedure :: cutoff => potential_cutoff
    procedure :: interaction_range => potential_interaction_range
  end type matnn_potential

  !> A property model (composition model).
  type, extends(matnn_model_handle), public :: matnn_property_model
  contains
    procedure :: load => property_load
    procedure :: name => property_name
    procedure :: unit => property_unit
    procedure :: task => property_task
    procedure :: num_classes => property_num_classes
    procedure :: predict_compositions => property_predict_compositions
    procedure :: predict_structures => property_predict_structures
    procedure :: predict_atoms => property_predict_atoms
    procedure :: embedding_width => property_embedding_width
    procedure :: embed_atoms => property_embed_atoms
    procedure :: predict_spectra => property_predict_spectra
    procedure :: predict_images => property_predict_images
  end type matnn_property_model

  !> Message of the last failure this module saw on this thread (C's matnn_last_error(), or the
  !> module's own argument checks).
  character(len=:), allocatable, save :: last_message
  !$omp threadprivate(last_message)

contains

  ! ==== strings and errors ========================================================================

  !> Copies a NUL-terminated C string into a Fortran string ("" for c_null_ptr).
  function from_c_string(s) result(text)
    type(c_ptr), intent(in) :: s
    character(len=:), allocatable :: text
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(s)) then
      text = ""
      return
    end if
    n = int(c_strlen(s))
    call c_f_pointer(s, chars, [n])
    allocate (character(len=n) :: text)
    do i = 1, n
      text(i:i) = chars(i)
    end do
  end function from_c_string

  !> A Fortran string as a NUL-terminated C string (trailing blanks removed).
  pure function to_c_string(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=len_trim(s) + 1) :: c
    c = trim(s)//c_null_char
  end function to_c_string

  !> The library version, e.g. "0.1.0".
  function matnn_version_string() result(version)
    character(len=:), allocatable :: version
    version = from_c_string(matnn_version())
  end function matnn_version_string

  !> The symbolic name of a status code, e.g. "MATNN_ERROR_NON_FINITE".
  function matnn_status_name(status) result(name)
    integer, intent(in) :: status
    character(len=:), allocatable :: name
    name = from_c_string(matnn_status_string(int(status, c_int)))
  end function matnn_status_name

  !> The message of the last failure reported to this thread through a `status` argument.
  function matnn_error_message() result(message)
    character(len=:), allocatable :: message
    if (allocated(last_message)) then
      message = last_message
    else
      message = ""
    end if
  end function matnn_error_message

  !> Reports `code` with `message`: into `status` when present, else on error_unit and stop.
  subroutine report(code, message, status)
    integer(c_int), intent(in) :: code
    character(len=*), intent(in) :: message
    integer, intent(out), optional :: status
    if (code /= MATNN_SUCCESS) last_message = message
    if (present(status)) then
      status = int(code)
    else if (code /= MATNN_SUCCESS) then
      write (error_unit, '(a)') "matnn: "//message//" ("//matnn_status_name(int(code))//")"
      error stop
    end if
  end subroutine report

  !> Reports the status of a C call; the message comes from matnn_last_error().
  subroutine check(code, status)
    integer(c_int), intent(in) :: code
    integer, intent(out), optional :: status
    if (code == MATNN_SUCCESS) then
      call report(code, "", status)
    else
      call report(code, from_c_string(matnn_last_error()), status)
    end if
  end subroutine check

  !> An INVALID_ARGUMENT found by this module before calling C.
  subroutine invalid(where, message, status)
    character(len=*), intent(in) :: where, message
    integer, intent(out), optional :: status
    call report(MATNN_ERROR_INVALID_ARGUMENT, where//": "//message, status)
  end subroutine invalid

  !> Trains a model from a YAML/JSON config (docs/training-config.md); see matnn_train() in
  !> matnn.h. output_model overrides the config's output.model; callback is called after each
  !> epoch with user_data (return non-zero from it to cancel: status MATNN_ERROR_CANCELLED).
  !> comm: an MPI communicator (the integer handle of `use mpi`, or comm%MPI_VAL of `use mpi_f08`);
  !> every rank of it calls with the same config and trains its share of each mini-batch (see
  !> matnn_train_comm() in matnn.h). MATNN_ERROR_UNSUPPORTED in a build of matnn without MPI.
  subroutine matnn_train_model(config, output_model, callback, user_data, status, comm)
    character(len=*), intent(in) :: config
    character(len=*), intent(in), optional :: output_model
    procedure(matnn_progress_callback), optional :: callback
    type(c_ptr), intent(in), optional :: user_data
    integer, intent(out), optional :: status
    integer, intent(in), optional :: comm
    character(kind=c_char, len=:), allocatable, target :: output_c
    type(c_ptr) :: output_ptr, data_ptr
    type(c_funptr) :: callback_ptr
    output_ptr = c_null_ptr
    if (present(output_model)) then
      output_c = to_c_string(output_model)
      output_ptr = c_loc(output_c)
    end if
    callback_ptr = c_null_funptr
    if (present(callback)) callback_ptr = c_funloc(callback)
    data_ptr = c_null_ptr
    if (present(user_data)) data_ptr = user_data
    if (present(comm)) then
      call check(matnn_train_comm(to_c_string(config), output_ptr, int(comm, c_int), callback_ptr, data_ptr), status)
    else
      call check(matnn_train(to_c_string(config), output_ptr, callback_ptr, data_ptr), status)
    end if
  end subroutine matnn_train_model

  !> Appends labelled structures to the training dataset `path` (created when missing), for
  !> matnn_train_model to retrain on; see matnn_dataset_append() in matnn.h. The structures lie
  !> one after another: natoms(s) atoms each, atomic_numbers(total) and positions(3, total) with
  !> total = sum(natoms). Optional, per structure: cells(3, 3, nstructures) (cells(:, k, s) is
  !> lattice vector k; periodic along all three unless pbc(3, nstructures) says otherwise),
  !> energies(nstructures), forces(3, total), stresses(6, nstructures) (Voigt, ASE's sign), and
  !> one config_type for all. units: MATNN_UNITS_* of every length and energy (default metal).
  !> Atomic; call it from one MPI rank at a time.
  subroutine matnn_append_dataset(path, natoms, atomic_numbers, positions, cells, pbc, energies, forces, stresses, &
                                  config_type, units, status)
    character(len=*), intent(in) :: path
    integer(c_int), intent(in), target, contiguous :: natoms(:), atomic_numbers(:)
    real(c_double), intent(in), target, contiguous :: positions(:, :)
    real(c_double), intent(in), target, optional, contiguous :: cells(:, :, :), energies(:), forces(:, :), stresses(:, :)
    logical, intent(in), optional :: pbc(:, :)
    character(len=*), intent(in), optional :: config_type
    integer, intent(in), optional :: units
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_append_dataset"
    character(kind=c_char, len=:), allocatable, target :: config_c
    integer(c_int), allocatable, target :: pbc_c(:, :)
    type(c_ptr) :: cells_ptr, pbc_ptr, energies_ptr, forces_ptr, stresses_ptr, config_ptr
    integer :: nstructures, total
    integer(c_int) :: unit_system
    nstructures = size(natoms)
    total = int(sum(natoms))
    if (nstructures == 0) then
      call invalid(where, "no structures", status)
      return
    end if
    if (size(atomic_numbers) /= total) then
      call invalid(where, "size(atomic_numbers) must be sum(natoms)", status)
      return
    end if
    if (wrong_shape(where, "positions", shape(positions), [3, total], status)) return
    cells_ptr = c_null_ptr
    if (present(cells)) then
      if (wrong_shape(where, "cells", shape(cells), [3, 3, nstructures], status)) return
      cells_ptr = c_loc(cells)
    end if
    pbc_ptr = c_null_ptr
    if (present(pbc)) then
      if (wrong_shape(where, "pbc", shape(pbc), [3, nstructures], status)) return
      pbc_c = merge(1_c_int, 0_c_int, pbc)
      pbc_ptr = c_loc(pbc_c)
    end if
    energies_ptr = c_null_ptr
    if (present(energies)) then
      if (wrong_shape(where, "energies", shape(energies), [nstructures], status)) return
      energies_ptr = c_loc(energies)
    end if
    forces_ptr = c_null_ptr
    if (present(forces)) then
      if (wrong_shape(where, "forces", shape(forces), [3, total], status)) return
      forces_ptr = c_loc(forces)
    end if
    stresses_ptr = c_null_ptr
    if (present(stresses)) then
      if (wrong_shape(where, "stresses", shape(stresses), [6, nstructures], status)) return
      stresses_ptr = c_loc(stresses)
    end if
    config_ptr = c_null_ptr
    if (present(config_type)) then
      config_c = to_c_string(config_type)
      config_ptr = c_loc(config_c)
    end if
    unit_system = MATNN_UNITS_METAL
    if (present(units)) unit_system = int(units, c_int)
    call check(matnn_dataset_append(to_c_string(path), unit_system, int(nstructures, c_int), c_loc(natoms), &
                                    c_loc(atomic_numbers), c_loc(positions), cells_ptr, pbc_ptr, energies_ptr, &
                                    forces_ptr, stresses_ptr, config_ptr), status)
  end subroutine matnn_append_dataset

  ! ==== the shared handle ==========================================================================

  !> Loads `path` into `self` (releasing what it held) and checks that it is of `kind`.
  subroutine load_kind(self, path, units, precision, expected_kind, status)
    class(matnn_model_handle), intent(inout) :: self
    character(len=*), intent(in) :: path
    integer, intent(in), optional :: units, precision
    integer(c_int), intent(in) :: expected_kind
    integer, intent(out), optional :: status
    type(matnn_load_options), target :: options
    integer(c_int) :: code, actual
    call self%destroy()
    code = matnn_load_options_init(options)
    if (present(units)) options%units = int(units, c_int)
    if (present(precision)) options%precision = int(precision, c_int)
    code = matnn_model_load(to_c_string(path), c_loc(options), self%handle)
    if (code /= MATNN_SUCCESS) then
      self%handle = c_null_ptr
      call check(code, status)
      return
    end if
    code = matnn_model_kind_of(self%handle, actual)
    if (code == MATNN_SUCCESS .and. actual /= expected_kind) then
      call self%destroy()
      if (expected_kind == MATNN_MODEL_POTENTIAL) then
        call report(MATNN_ERROR_MODEL, trim(path)//" holds a property model, not a potential "// &
                    "(load it into a matnn_property_model)", status)
      else
        call report(MATNN_ERROR_MODEL, trim(path)//" holds a potential, not a property model "// &
                    "(load it into a matnn_potential)", status)
      end if
      return
    end if
    call check(code, status)
  end subroutine load_kind

  !> Releases the model; the object can be loaded again. Does nothing when nothing is loaded.
  subroutine handle_destroy(self)
    class(matnn_model_handle), intent(inout) :: self
    call matnn_model_destroy(self%handle)
    self%handle = c_null_ptr
  end subroutine handle_destroy

  subroutine handle_finalize(self)
    type(matnn_model_handle), intent(inout) :: self
    call matnn_model_destroy(self%handle)
    self%handle = c_null_ptr
  end subroutine handle_finalize

  !> a = b: allowed only from an object that holds no model (it then releases a's model).
  subroutine assign_handle(lhs, rhs)
    class(matnn_model_handle), intent(inout) :: lhs
    class(matnn_model_handle), intent(in) :: rhs
    if (c_associated(rhs%handle)) then
      write (error_unit, '(a)') "matnn: a loaded model object cannot be copied (both copies would own "// &
        "one handle); pass it by reference instead"
      error stop
    end if
    call lhs%destroy()
  end subroutine assign_handle

  logical function handle_is_loaded(self)
    class(matnn_model_handle), intent(in) :: self
    handle_is_loaded = c_associated(self%handle)
  end function handle_is_loaded

  !> The C handle (matnn_model*), for calling the layer-1 functions directly. Still owned by self.
  function handle_c_handle(self) result(handle)
    class(matnn_model_handle), intent(in) :: self
    type(c_ptr) :: handle
    handle = self%handle
  end function handle_c_handle

  !> An int-valued query; MATNN_ERROR_INVALID_ARGUMENT from C when nothing is loaded.
  function int_query(self, which, status) result(value)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(in) :: which
    integer, intent(out), optional :: status
    integer :: value
    integer(c_int) :: c_value, code
    c_value = 0
    select case (which)
    case (1)
      code = matnn_model_kind_of(self%handle, c_value)
    case (2)
      code = matnn_model_units(self%handle, c_value)
    case (3)
      code = matnn_model_precision(self%handle, c_value)
    case (4)
      code = matnn_model_num_species(self%handle, c_value)
    case (5)
      code = matnn_model_ensemble_size(self%handle, c_value)
    case (6)
      code = matnn_model_outputs(self%handle, c_value)
    case (7)
      code = matnn_property_task(self%handle, c_value)
    case default
      code = matnn_property_num_classes(self%handle, c_value)
    end select
    value = int(c_value)
    call check(code, status)
  end function int_query

  !> MATNN_MODEL_POTENTIAL or MATNN_MODEL_PROPERTY.
  integer function handle_kind(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_kind = int_query(self, 1, status)
  end function handle_kind

  !> The MATNN_UNITS_* the model was loaded with.
  integer function handle_units(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_units = int_query(self, 2, status)
  end function handle_units

  !> The MATNN_PRECISION_* the model was loaded with.
  integer function handle_precision(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_precision = int_query(self, 3, status)
  end function handle_precision

  integer function handle_num_species(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_num_species = int_query(self, 4, status)
  end function handle_num_species

  !> Atomic numbers of the model's species, in the model's order (empty on failure).
  function handle_species(self, status) result(atomic_numbers)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    integer(c_int), allocatable :: atomic_numbers(:)
    integer(c_int) :: n, code
    code = matnn_model_num_species(self%handle, n)
    if (code /= MATNN_SUCCESS) then
      allocate (atomic_numbers(0))
      call check(code, status)
      return
    end if
    allocate (atomic_numbers(n))
    call check(matnn_model_species(self%handle, atomic_numbers), status)
  end function handle_species

  !> Number of ensemble members (1: no ensemble, uncertainties are 0).
  integer function handle_ensemble_size(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_ensemble_size = int_query(self, 5, status)
  end function handle_ensemble_size

  !> OR of MATNN_OUTPUT_* flags; test with iand(model%outputs(), MATNN_OUTPUT_STRESS) /= 0.
  integer function handle_outputs(self, status)
    class(matnn_model_handle), intent(in) :: self
    integer, intent(out), optional :: status
    handle_outputs = int_query(self, 6, status)
  end function handle_outputs

  ! ==== potentials =================================================================================

  !> Loads a potential model file. units: MATNN_UNITS_* (default METAL: eV, Angstrom);
  !> precision: MATNN_PRECISION_* (default FLOAT32). A property model file is MATNN_ERROR_MODEL.
  subroutine potential_load(self, path, units, precision, status)
    class(matnn_potential), intent(inout) :: self
    character(len=*), intent(in) :: path
    integer, intent(in), optional :: units, precision
    integer, intent(out), optional :: status
    call load_kind(self, path, units, precision, MATNN_MODEL_POTENTIAL, status)
  end subroutine potential_load

  !> .true., after reporting MATNN_ERROR_INVALID_ARGUMENT, when an array's shape is not `wanted`.
  !> (Outputs are bound with c_loc in the callers: passing absent optional arrays on to a helper
  !> is legal but trips gfortran's sanitizers.)
  logical function wrong_shape(where, name, got, wanted, status)
    character(len=*), intent(in) :: where, name
    integer, intent(in) :: got(:), wanted(:)
    integer, intent(out), optional :: status
    character(len=64) :: text
    wrong_shape = size(got) /= size(wanted)
    if (.not. wrong_shape) wrong_shape = any(got /= wanted)
    if (wrong_shape) then
      write (text, '(a,*(i0,:,","))') "(", wanted
      call invalid(where, name//" must have shape "//trim(text)//")", status)
    end if
  end function wrong_shape

  !> Energy, forces, stress and uncertainties of one structure; every output is optional
  !> (absent = not computed).
  !>
  !>   atomic_numbers(natoms)    in   integer(c_int)
  !>   positions(3, natoms)      in   real(c_double), length unit; positions(:, i) is atom i
  !>   cell(3, 3)                in   optional; cell(:, k) is lattice vector k (the COLUMNS)
  !>   pbc(3)                    in   optional logical; default: all .true. when cell is given,
  !>                                  all .false. without a cell (C's NULL means all 0)
  !>   energy                    out  total energy (energy unit)
  !>   forces(3, natoms)         out  -dE/dr (force unit)
  !>   stress(6)                 out  Voigt xx yy zz yz xz xy, ASE sign, energy/length^3;
  !>                                  needs a fully periodic cell or a slab (two periodic
  !>                                  directions: components along the free axis are 0; see
  !>                                  matnn.h), else MATNN_ERROR_UNSUPPORTED
  !>   energies(natoms)          out  per-atom energies
  !>   energy_sigma              out  ensemble std of the energy
  !>   force_deviation(natoms)   out  per-atom ensemble force deviation
  !>   max_force_deviation       out  its maximum over atoms
  !>   virials(6, natoms)        out  per-atom virials, Voigt, energy unit, sign of stress x volume:
  !>                                  for a fully periodic cell sum(virials, 2) = volume * stress
  !>                                  (a slab's are not masked like its stress)
  subroutine potential_compute(self, atomic_numbers, positions, cell, pbc, energy, forces, stress, energies, &
                               energy_sigma, force_deviation, max_force_deviation, virials, status)
    class(matnn_potential), intent(in) :: self
    integer(c_int), intent(in), target, contiguous :: atomic_numbers(:)
    real(c_double), intent(in), target, contiguous :: positions(:, :)
    real(c_double), intent(in), target, optional :: cell(3, 3)
    logical, intent(in), optional :: pbc(3)
    real(c_double), intent(out), target, optional :: energy, energy_sigma, max_force_deviation
    real(c_double), intent(out), target, optional, contiguous :: forces(:, :), stress(:), energies(:), &
      force_deviation(:), virials(:, :)
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_potential%compute"
    type(matnn_potential_results) :: results
    integer(c_int), target :: pbc_c(3)
    type(c_ptr) :: cell_ptr, pbc_ptr
    integer :: natoms
    integer(c_int) :: code
    natoms = size(atomic_numbers)
    if (natoms == 0) then
      call invalid(where, "no atoms", status)
      return
    end if
    if (size(positions, 1) /= 3 .or. size(positions, 2) /= natoms) then
      call invalid(where, "positions must be declared (3, natoms) with natoms = size(atomic_numbers)", status)
      return
    end if
    code = matnn_potential_results_init2(results, c_sizeof(results))
    if (present(forces)) then
      if (wrong_shape(where, "forces", shape(forces), [3, natoms], status)) return
      results%forces = c_loc(forces)
    end if
    if (present(stress)) then
      if (wrong_shape(where, "stress", shape(stress), [6], status)) return
      results%stress = c_loc(stress)
    end if
    if (present(energies)) then
      if (wrong_shape(where, "energies", shape(energies), [natoms], status)) return
      results%energies = c_loc(energies)
    end if
    if (present(force_deviation)) then
      if (wrong_shape(where, "force_deviation", shape(force_deviation), [natoms], status)) return
      results%force_deviation = c_loc(force_deviation)
    end if
    if (present(virials)) then
      if (wrong_shape(where, "virials", shape(virials), [6, natoms], status)) return
      results%virials = c_loc(virials)
    end if
    if (present(energy)) results%energy = c_loc(energy)
    if (present(energy_sigma)) results%energy_sigma = c_loc(energy_sigma)
    if (present(max_force_deviation)) results%max_force_deviation = c_loc(max_force_deviation)
    cell_ptr = c_null_ptr
    pbc_ptr = c_null_ptr
    pbc_c = 0
    if (present(cell)) then
      cell_ptr = c_loc(cell)
      pbc_c = 1
    end if
    if (present(pbc)) pbc_c = merge(1_c_int, 0_c_int, pbc)
    if (any(pbc_c /= 0)) pbc_ptr = c_loc(pbc_c)
    call check(matnn_potential_compute(self%handle, int(natoms, c_int), c_loc(atomic_numbers), &
                                       c_loc(positions), cell_ptr, pbc_ptr, results), status)
  end subroutine potential_compute

  !> One rank's part of a domain-decomposed run: natoms_local owned atoms followed by ghosts,
  !> explicit positions, no periodicity (see matnn_potential_compute_local() in matnn.h).
  !> energy_counts(natoms): 1 where the atom's energy belongs to this rank (default: the local
  !> atoms). forces(3, natoms) and virials(6, natoms) include the ghosts' shares, which the host
  !> adds to their owners. Stress is not available here.
  !> neighbor_offsets(natoms + 1) and neighbors(:), both or neither: the host's neighbour list
  !> (matnn_potential_compute_local2), passed as C reads it, so 0-BASED: the candidates of atom i
  !> (1-based) are neighbors(neighbor_offsets(i) + 1 : neighbor_offsets(i + 1)), each the 0-based
  !> index of an atom; neighbor_offsets(1) = 0 and neighbor_offsets(natoms + 1) = size(neighbors).
  !> Candidates at or beyond the cutoff are skipped (a skin is fine). Absent: matnn searches.
  subroutine potential_compute_local(self, natoms_local, atomic_numbers, positions, energy_counts, energy, &
                                     forces, energies, energy_sigma, force_deviation, max_force_deviation, &
                                     virials, neighbor_offsets, neighbors, status)
    class(matnn_potential), intent(in) :: self
    integer, intent(in) :: natoms_local
    integer(c_int), intent(in), target, contiguous :: atomic_numbers(:)
    real(c_double), intent(in), target, contiguous :: positions(:, :)
    integer(c_int), intent(in), target, optional, contiguous :: energy_counts(:), neighbor_offsets(:), neighbors(:)
    real(c_double), intent(out), target, optional :: energy, energy_sigma, max_force_deviation
    real(c_double), intent(out), target, optional, contiguous :: forces(:, :), energies(:), force_deviation(:), &
      virials(:, :)
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_potential%compute_local"
    type(matnn_potential_results) :: results
    type(c_ptr) :: counts_ptr, offsets_ptr, neighbors_ptr
    integer(c_int), target :: no_neighbors(1)  ! stands in for an empty neighbors(:): c_loc needs elements
    character(len=96) :: text
    integer :: natoms
    integer(c_int) :: code
    natoms = size(atomic_numbers)
    if (natoms == 0 .or. natoms_local < 0 .or. natoms_local > natoms) then
      call invalid(where, "need 0 <= natoms_local <= size(atomic_numbers) and at least one atom", status)
      return
    end if
    if (size(positions, 1) /= 3 .or. size(positions, 2) /= natoms) then
      call invalid(where, "positions must be declared (3, natoms) with natoms = size(atomic_numbers)", status)
      return
    end if
    counts_ptr = c_null_ptr
    if (present(energy_counts)) then
      if (size(energy_counts) /= natoms) then
        call invalid(where, "energy_counts must have natoms elements", status)
        return
      end if
      counts_ptr = c_loc(energy_counts)
    end if
    offsets_ptr = c_null_ptr
    neighbors_ptr = c_null_ptr
    if (present(neighbor_offsets) .neqv. present(neighbors)) then
      call invalid(where, "neighbor_offsets and neighbors must both be present or both be absent", status)
      return
    end if
    if (present(neighbor_offsets)) then
      if (wrong_shape(where, "neighbor_offsets", shape(neighbor_offsets), [natoms + 1], status)) return
      ! C reads neighbors up to neighbor_offsets(natoms + 1) without knowing their size: check it here.
      if (neighbor_offsets(natoms + 1) /= size(neighbors)) then
        write (text, '(a,i0,a,i0)') "neighbor_offsets(natoms + 1) is ", neighbor_offsets(natoms + 1), &
          ", but size(neighbors) is ", size(neighbors)
        call invalid(where, trim(text)//" (they must be equal)", status)
        return
      end if
      offsets_ptr = c_loc(neighbor_offsets)
      neighbors_ptr = c_loc(no_neighbors)
      if (size(neighbors) > 0) neighbors_ptr = c_loc(neighbors)
    end if
    code = matnn_potential_results_init2(results, c_sizeof(results))
    if (present(forces)) then
      if (wrong_shape(where, "forces", shape(forces), [3, natoms], status)) return
      results%forces = c_loc(forces)
    end if
    if (present(energies)) then
      if (wrong_shape(where, "energies", shape(energies), [natoms], status)) return
      results%energies = c_loc(energies)
    end if
    if (present(force_deviation)) then
      if (wrong_shape(where, "force_deviation", shape(force_deviation), [natoms], status)) return
      results%force_deviation = c_loc(force_deviation)
    end if
    if (present(virials)) then
      if (wrong_shape(where, "virials", shape(virials), [6, natoms], status)) return
      results%virials = c_loc(virials)
    end if
    if (present(energy)) results%energy = c_loc(energy)
    if (present(energy_sigma)) results%energy_sigma = c_loc(energy_sigma)
    if (present(max_force_deviation)) results%max_force_deviation = c_loc(max_force_deviation)
    call check(matnn_potential_compute_local2(self%handle, int(natoms_local, c_int), &
                                              int(natoms - natoms_local, c_int), c_loc(atomic_numbers), &
                                              c_loc(positions), counts_ptr, offsets_ptr, neighbors_ptr, results), &
               status)
  end subroutine potential_compute_local

  !> Cutoff radius (length unit).
  function potential_cutoff(self, status) result(cutoff)
    class(matnn_potential), intent(in) :: self
    integer, intent(out), optional :: status
    real(c_double) :: cutoff
    cutoff = 0
    call check(matnn_model_cutoff(self%handle, cutoff), status)
  end function potential_cutoff

  !> Interaction range (length unit): the ghost shell compute_local needs.
  function potential_interaction_range(self, status) result(interaction_range)
    class(matnn_potential), intent(in) :: self
    integer, intent(out), optional :: status
    real(c_double) :: interaction_range
    interaction_range = 0
    call check(matnn_model_interaction_range(self%handle, interaction_range), status)
  end function potential_interaction_range

  ! ==== property models ============================================================================

  !> Loads a property model file (units do not apply; precision must be FLOAT32).
  !> A potential file is MATNN_ERROR_MODEL.
  subroutine property_load(self, path, status)
    class(matnn_property_model), intent(inout) :: self
    character(len=*), intent(in) :: path
    integer, intent(out), optional :: status
    call load_kind(self, path, expected_kind=MATNN_MODEL_PROPERTY, status=status)
  end subroutine property_load

  !> Name of the predicted property, e.g. "formation_energy".
  function property_name(self, status) result(name)
    class(matnn_property_model), intent(in) :: self
    integer, intent(out), optional :: status
    character(len=:), allocatable :: name
    type(c_ptr) :: s
    s = c_null_ptr
    call check(matnn_property_name(self%handle, s), status)
    name = from_c_string(s)
  end function property_name

  !> Unit of the predicted value, e.g. "eV/atom" ("" when unitless).
  function property_unit(self, status) result(unit)
    class(matnn_property_model), intent(in) :: self
    integer, intent(out), optional :: status
    character(len=:), allocatable :: unit
    type(c_ptr) :: s
    s = c_null_ptr
    call check(matnn_property_unit(self%handle, s), status)
    unit = from_c_string(s)
  end function property_unit

  !> MATNN_TASK_REGRESSION or MATNN_TASK_CLASSIFICATION.
  integer function property_task(self, status)
    class(matnn_property_model), intent(in) :: self
    integer, intent(out), optional :: status
    property_task = int_query(self, 7, status)
  end function property_task

  integer function property_num_classes(self, status)
    class(matnn_property_model), intent(in) :: self
    integer, intent(out), optional :: status
    property_num_classes = int_query(self, 8, status)
  end function property_num_classes

  !> Predictions for n compositions.
  !>   atomic_numbers(n_elements)   element of each row of `fractions`
  !>   fractions(n_elements, n)     amounts; column j is composition j (C's row j)
  !>   values(n)                    out: value, or the most probable class index
  !>   sigmas(n), ood(n)            out, optional: uncertainty; 1 = out of distribution
  !>   probabilities(n_classes, n)  out, optional (classifiers only)
  !>   mc_samples                   Monte-Carlo dropout passes (default 0)
  subroutine property_predict_compositions(self, atomic_numbers, fractions, values, sigmas, ood, &
                                           probabilities, mc_samples, status)
    class(matnn_property_model), intent(in) :: self
    integer(c_int), intent(in), target, contiguous :: atomic_numbers(:)
    real(c_double), intent(in), target, contiguous :: fractions(:, :)
    real(c_double), intent(out), target, contiguous :: values(:)
    real(c_double), intent(out), target, optional, contiguous :: sigmas(:), probabilities(:, :)
    integer(c_int), intent(out), target, optional, contiguous :: ood(:)
    integer, intent(in), optional :: mc_samples
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_property_model%predict_compositions"
    type(c_ptr) :: sigmas_ptr, ood_ptr, probabilities_ptr
    integer :: n, samples
    n = size(fractions, 2)
    if (n == 0 .or. size(atomic_numbers) == 0 .or. size(fractions, 1) /= size(atomic_numbers) &
        .or. size(values) /= n) then
      call invalid(where, "need fractions(n_elements, n), n_elements = size(atomic_numbers), "// &
                   "size(values) = n, and n, n_elements > 0", status)
      return
    end if
    ! Absent optional arrays are never passed on (a helper taking them optional would read the
    ! absent descriptors, which UBSan reports): each output is checked here.
    sigmas_ptr = c_null_ptr
    ood_ptr = c_null_ptr
    probabilities_ptr = c_null_ptr
    if (present(sigmas)) then
      if (wrong_shape(where, "sigmas", shape(sigmas), [n], status)) return
      sigmas_ptr = c_loc(sigmas)
    end if
    if (present(ood)) then
      if (wrong_shape(where, "ood", shape(ood), [n], status)) return
      ood_ptr = c_loc(ood)
    end if
    if (present(probabilities)) then
      if (wrong_shape(where, "probabilities", shape(probabilities), [self%num_classes(), n], status)) return
      probabilities_ptr = c_loc(probabilities)
    end if
    samples = 0
    if (present(mc_samples)) samples = mc_samples
    call check(matnn_property_predict_compositions(self%handle, int(n, c_int), int(size(atomic_numbers), c_int), &
                                                   c_loc(atomic_numbers), c_loc(fractions), int(samples, c_int), &
                                                   c_loc(values), sigmas_ptr, ood_ptr, probabilities_ptr), status)
  end subroutine property_predict_compositions

  !> Predictions for structures given by their atoms: natoms(s) atoms each, atomic_numbers the
  !> structures' atoms concatenated. Outputs as predict_compositions, one per structure.
  subroutine property_predict_structures(self, natoms, atomic_numbers, values, sigmas, ood, probabilities, &
                                         mc_samples, status)
    class(matnn_property_model), intent(in) :: self
    integer(c_int), intent(in), target, contiguous :: natoms(:), atomic_numbers(:)
    real(c_double), intent(out), target, contiguous :: values(:)
    real(c_double), intent(out), target, optional, contiguous :: sigmas(:), probabilities(:, :)
    integer(c_int), intent(out), target, optional, contiguous :: ood(:)
    integer, intent(in), optional :: mc_samples
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_property_model%predict_structures"
    type(c_ptr) :: sigmas_ptr, ood_ptr, probabilities_ptr
    integer :: n, samples
    n = size(natoms)
    if (n == 0 .or. size(values) /= n) then
      call invalid(where, "need at least one structure and size(values) = size(natoms)", status)
      return
    end if
    if (any(natoms <= 0) .or. sum(int(natoms, c_long_long)) /= size(atomic_numbers, kind=c_long_long)) then
      call invalid(where, "natoms must be positive and sum to size(atomic_numbers)", status)
      return
    end if
    ! Absent optional arrays are never passed on (a helper taking them optional would read the
    ! absent descriptors, which UBSan reports): each output is checked here.
    sigmas_ptr = c_null_ptr
    ood_ptr = c_null_ptr
    probabilities_ptr = c_null_ptr
    if (present(sigmas)) then
      if (wrong_shape(where, "sigmas", shape(sigmas), [n], status)) return
      sigmas_ptr = c_loc(sigmas)
    end if
    if (present(ood)) then
      if (wrong_shape(where, "ood", shape(ood), [n], status)) return
      ood_ptr = c_loc(ood)
    end if
    if (present(probabilities)) then
      if (wrong_shape(where, "probabilities", shape(probabilities), [self%num_classes(), n], status)) return
      probabilities_ptr = c_loc(probabilities)
    end if
    samples = 0
    if (present(mc_samples)) samples = mc_samples
    call check(matnn_property_predict_structures(self%handle, int(n, c_int), c_loc(natoms), &
                                                 c_loc(atomic_numbers), int(samples, c_int), c_loc(values), &
                                                 sigmas_ptr, ood_ptr, probabilities_ptr), status)
  end subroutine property_predict_structures

  !> Predictions for whole structures (every model kind; CGCNN needs them): natoms(s) atoms each,
  !> atomic_numbers and positions(3, sum(natoms)) the structures' atoms concatenated, cells(3, 3, n)
  !> with column k of cells(:, :, s) the lattice vector k, pbc(3, n) the periodic flags. Outputs as
  !> predict_compositions, one per structure. With mc_samples > 0, `seed` picks the Monte-Carlo
  !> dropout stream (matnn_property_predict_atoms_mc; default: seed 0, so equal calls draw alike).
  subroutine property_predict_atoms(self, natoms, atomic_numbers, positions, cells, pbc, values, sigmas, ood, &
                                    probabilities, mc_samples, status, seed)
    class(matnn_property_model), intent(in) :: self
    integer(c_int), intent(in), target, contiguous :: natoms(:), atomic_numbers(:), pbc(:, :)
    real(c_double), intent(in), target, contiguous :: positions(:, :), cells(:, :, :)
    real(c_double), intent(out), target, contiguous :: values(:)
    real(c_double), intent(out), target, optional, contiguous :: sigmas(:), probabilities(:, :)
    integer(c_int), intent(out), target, optional, contiguous :: ood(:)
    integer, intent(in), optional :: mc_samples
    integer, intent(out), optional :: status
    integer(c_int64_t), intent(in), optional :: seed
    character(len=*), parameter :: where = "matnn_property_model%predict_atoms"
    type(c_ptr) :: sigmas_ptr, ood_ptr, probabilities_ptr
    integer :: n, samples
    n = size(natoms)
    if (.not. atoms_batch_ok(where, natoms, atomic_numbers, positions, cells, pbc, status)) return
    if (wrong_shape(where, "values", shape(values), [n], status)) return
    ! Absent optional arrays are never passed on (a helper taking them optional would read the
    ! absent descriptors, which UBSan reports): each output is checked here.
    sigmas_ptr = c_null_ptr
    ood_ptr = c_null_ptr
    probabilities_ptr = c_null_ptr
    if (present(sigmas)) then
      if (wrong_shape(where, "sigmas", shape(sigmas), [n], status)) return
      sigmas_ptr = c_loc(sigmas)
    end if
    if (present(ood)) then
      if (wrong_shape(where, "ood", shape(ood), [n], status)) return
      ood_ptr = c_loc(ood)
    end if
    if (present(probabilities)) then
      if (wrong_shape(where, "probabilities", shape(probabilities), [self%num_classes(), n], status)) return
      probabilities_ptr = c_loc(probabilities)
    end if
    samples = 0
    if (present(mc_samples)) samples = mc_samples
    if (present(seed)) then
      call check(matnn_property_predict_atoms_mc(self%handle, int(n, c_int), c_loc(natoms), c_loc(atomic_numbers), &
                                                 c_loc(positions), c_loc(cells), c_loc(pbc), int(samples, c_int), &
                                                 seed, c_loc(values), sigmas_ptr, ood_ptr, probabilities_ptr), status)
    else
      call check(matnn_property_predict_atoms(self%handle, int(n, c_int), c_loc(natoms), c_loc(atomic_numbers), &
                                              c_loc(positions), c_loc(cells), c_loc(pbc), int(samples, c_int), &
                                              c_loc(values), sigmas_ptr, ood_ptr, probabilities_ptr), status)
    end if
  end subroutine property_predict_atoms

  !> Predictions for one-channel spectra on one grid, for spectrum models (cnn1d): axis(points)
  !> in the model's axis unit, intensities(points, n) one spectrum per column (the C layout
  !> [n][points]); a grid other than the model's is interpolated onto it. Outputs as
  !> predict_compositions, one per spectrum; `seed` picks the Monte-Carlo stream (default 0).
  subroutine property_predict_spectra(self, axis, intensities, values, sigmas, ood, probabilities, mc_samples, &
                                      status, seed)
    class(matnn_property_model), intent(in) :: self
    real(c_double), intent(in), target, contiguous :: axis(:), intensities(:, :)
    real(c_double), intent(out), target, contiguous :: values(:)
    real(c_double), intent(out), target, optional, contiguous :: sigmas(:), probabilities(:, :)
    integer(c_int), intent(out), target, optional, contiguous :: ood(:)
    integer, intent(in), optional :: mc_samples
    integer, intent(out), optional :: status
    integer(c_int64_t), intent(in), optional :: seed
    character(len=*), parameter :: where = "matnn_property_model%predict_spectra"
    type(c_ptr) :: sigmas_ptr, ood_ptr, probabilities_ptr
    integer :: n, samples
    integer(c_int64_t) :: stream
    n = size(intensities, 2)
    if (n == 0 .or. size(intensities, 1) /= size(axis)) then
      call invalid(where, "need at least one spectrum and size(intensities, 1) = size(axis)", status)
      return
    end if
    if (wrong_shape(where, "values", shape(values), [n], status)) return
    sigmas_ptr = c_null_ptr
    ood_ptr = c_null_ptr
    probabilities_ptr = c_null_ptr
    if (present(sigmas)) then
      if (wrong_shape(where, "sigmas", shape(sigmas), [n], status)) return
      sigmas_ptr = c_loc(sigmas)
    end if
    if (present(ood)) then
      if (wrong_shape(where, "ood", shape(ood), [n], status)) return
      ood_ptr = c_loc(ood)
    end if
    if (present(probabilities)) then
      if (wrong_shape(where, "probabilities", shape(probabilities), [self%num_classes(), n], status)) return
      probabilities_ptr = c_loc(probabilities)
    end if
    samples = 0
    if (present(mc_samples)) samples = mc_samples
    stream = 0
    if (present(seed)) stream = seed
    call check(matnn_property_predict_spectra(self%handle, int(n, c_int), 1_c_int, int(size(axis), c_int), &
                                              c_loc(axis), c_loc(intensities), int(samples, c_int), stream, &
                                              c_loc(values), sigmas_ptr, ood_ptr, probabilities_ptr, c_null_ptr), &
               status)
  end subroutine property_predict_spectra

  !> Predictions for images, for image models (cnn2d): pixels(width, height, channels, n) (the C
  !> layout [n][channels][height][width]) in the model's size in pixels, pixel_sizes(n) in the unit
  !> of the training images (> 0). Outputs as predict_compositions, one per image (ood also flags
  !> a pixel size more than 5 % outside the training range); embeddings(embedding_width(), n)
  !> when present; `seed` picks the Monte-Carlo stream (default 0).
  subroutine property_predict_images(self, pixel_sizes, pixels, values, sigmas, ood, probabilities, mc_samples, &
                                     status, seed, embeddings)
    class(matnn_property_model), intent(in) :: self
    real(c_double), intent(in), target, contiguous :: pixel_sizes(:), pixels(:, :, :, :)
    real(c_double), intent(out), target, contiguous :: values(:)
    real(c_double), intent(out), target, optional, contiguous :: sigmas(:), probabilities(:, :), embeddings(:, :)
    integer(c_int), intent(out), target, optional, contiguous :: ood(:)
    integer, intent(in), optional :: mc_samples
    integer, intent(out), optional :: status
    integer(c_int64_t), intent(in), optional :: seed
    character(len=*), parameter :: where = "matnn_property_model%predict_images"
    type(c_ptr) :: sigmas_ptr, ood_ptr, probabilities_ptr, embeddings_ptr
    integer :: n, samples
    integer(c_int64_t) :: stream
    n = size(pixels, 4)
    if (n == 0) then
      call invalid(where, "need at least one image", status)
      return
    end if
    if (wrong_shape(where, "pixel_sizes", shape(pixel_sizes), [n], status)) return
    if (wrong_shape(where, "values", shape(values), [n], status)) return
    ! Each optional output is checked here, never passed on absent (see predict_atoms).
    sigmas_ptr = c_null_ptr
    ood_ptr = c_null_ptr
    probabilities_ptr = c_null_ptr
    embeddings_ptr = c_null_ptr
    if (present(sigmas)) then
      if (wrong_shape(where, "sigmas", shape(sigmas), [n], status)) return
      sigmas_ptr = c_loc(sigmas)
    end if
    if (present(ood)) then
      if (wrong_shape(where, "ood", shape(ood), [n], status)) return
      ood_ptr = c_loc(ood)
    end if
    if (present(probabilities)) then
      if (wrong_shape(where, "probabilities", shape(probabilities), [self%num_classes(), n], status)) return
      probabilities_ptr = c_loc(probabilities)
    end if
    if (present(embeddings)) then
      if (wrong_shape(where, "embeddings", shape(embeddings), [self%embedding_width(), n], status)) return
      embeddings_ptr = c_loc(embeddings)
    end if
    samples = 0
    if (present(mc_samples)) samples = mc_samples
    stream = 0
    if (present(seed)) stream = seed
    call check(matnn_property_predict_images(self%handle, int(n, c_int), int(size(pixels, 3), c_int), &
                                             int(size(pixels, 2), c_int), int(size(pixels, 1), c_int), &
                                             c_loc(pixel_sizes), c_loc(pixels), int(samples, c_int), stream, &
                                             c_loc(values), sigmas_ptr, ood_ptr, probabilities_ptr, embeddings_ptr), &
               status)
  end subroutine property_predict_images

  !> Width of the learned structure embedding.
  integer function property_embedding_width(self, status) result(width)
    class(matnn_property_model), intent(in) :: self
    integer, intent(out), optional :: status
    integer(c_int) :: w
    w = 0
    call check(matnn_property_embedding_width(self%handle, w), status)
    width = int(w)
  end function property_embedding_width

  !> The learned embeddings(width, n) of whole structures, arguments as predict_atoms.
  subroutine property_embed_atoms(self, natoms, atomic_numbers, positions, cells, pbc, embeddings, status)
    class(matnn_property_model), intent(in) :: self
    integer(c_int), intent(in), target, contiguous :: natoms(:), atomic_numbers(:), pbc(:, :)
    real(c_double), intent(in), target, contiguous :: positions(:, :), cells(:, :, :)
    real(c_double), intent(out), target, contiguous :: embeddings(:, :)
    integer, intent(out), optional :: status
    character(len=*), parameter :: where = "matnn_property_model%embed_atoms"
    if (.not. atoms_batch_ok(where, natoms, atomic_numbers, positions, cells, pbc, status)) return
    if (wrong_shape(where, "embeddings", shape(embeddings), [self%embedding_width(), size(natoms)], status)) return
    call check(matnn_property_embed_atoms(self%handle, int(size(natoms), c_int), c_loc(natoms), c_loc(atomic_numbers), &
                                          c_loc(positions), c_loc(cells), c_loc(pbc), c_loc(embeddings)), status)
  end subroutine property_embed_atoms

  !> The shapes of a batch of whole structures, or an INVALID_ARGUMENT naming what is wrong.
  logical function atoms_batch_ok(where, natoms, atomic_numbers, positions, cells, pbc, status) result(ok)
    character(len=*), intent(in) :: where
    integer(c_int), intent(in) :: natoms(:), atomic_numbers(:), pbc(:, :)
    real(c_double), intent(in) :: positions(:, :), cells(:, :, :)
    integer, intent(out), optional :: status
    integer :: n
    ok = .false.
    n = size(natoms)
    if (n == 0 .or. any(natoms <= 0) .or. sum(int(natoms, c_long_long)) /= size(atomic_numbers, kind=c_long_long)) then
      call invalid(where, "need at least one structure; natoms must be positive and sum to size(atomic_numbers)", status)
      return
    end if
    if (wrong_shape(where, "positions", shape(positions), [3, size(atomic_numbers)], status)) return
    if (wrong_shape(where, "cells", shape(cells), [3, 3, n], status)) return
    if (wrong_shape(where, "pbc", shape(pbc), [3, n], status)) return
    ok = .true.
  end function atoms_batch_ok

end module matnn
