!> fortran_misuse: a Fortran host that makes mistakes on purpose and checks the status each one
!> gets through the optional `status` argument of module matnn (and that the program goes on).
!>
!> Usage: fortran_misuse POTENTIAL_MODEL PROPERTY_MODEL [CUTOFF RANGE]
!> CUTOFF and RANGE (Angstrom, default 4.5 and 4.5) are the potential's cutoff and interaction
!> range: equal for Behler-Parrinello, cutoff x interaction blocks for NequIP.
program fortran_misuse
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: error_unit
  use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
  use matnn
  implicit none

  type(matnn_potential) :: pot, unloaded
  type(matnn_property_model) :: prop
  character(len=4096) :: pot_path, prop_path, arg
  real(c_double) :: want_cutoff = 4.5_c_double, want_range = 4.5_c_double
  integer(c_int) :: numbers(4), code
  real(c_double) :: positions(3, 4), cell(3, 3), forces(3, 4), short_forces(3, 3), stress(6)
  real(c_double) :: energy, energy_local, sigma, max_dev, deviation(4), values(2), sigmas(2)
  real(c_double), target :: positions_t(3, 4), energy_t
  integer(c_int), target :: numbers_t(4)
  integer(c_int) :: ood(2) = -1
  type(matnn_potential_results) :: results
  integer :: ierr, failures

  failures = 0
  call get_command_argument(1, pot_path)
  call get_command_argument(2, prop_path)
  if (command_argument_count() >= 4) then
    call get_command_argument(3, arg)
    read (arg, *) want_cutoff
    call get_command_argument(4, arg)
    read (arg, *) want_range
  end if

  ! A small fcc Cu cell: cell(:, k) is lattice vector k.
  cell = 0
  cell(1, 1) = 3.61_c_double
  cell(2, 2) = 3.61_c_double
  cell(3, 3) = 3.61_c_double
  numbers = 29
  positions = reshape([0.0_c_double, 0.0_c_double, 0.0_c_double, 1.805_c_double, 1.805_c_double, 0.0_c_double, &
                       1.805_c_double, 0.0_c_double, 1.805_c_double, 0.0_c_double, 1.805_c_double, 1.805_c_double], &
                      [3, 4])
  positions(1, 1) = 0.05_c_double

  call pot%load("/nonexistent/model.h5", status=ierr)
  call expect("load a missing file", ierr, MATNN_ERROR_IO)
  call pot%load(prop_path, status=ierr)
  call expect("load a property model as a potential", ierr, MATNN_ERROR_MODEL)
  if (pot%is_loaded()) call failed("a failed load left a handle behind")

  call unloaded%compute(numbers, positions, cell, energy=energy, status=ierr)
  call expect("compute without a loaded model", ierr, MATNN_ERROR_INVALID_ARGUMENT)

  call pot%load(pot_path, precision=MATNN_PRECISION_FLOAT64, status=ierr)
  call expect("load the potential", ierr, MATNN_SUCCESS)
  if (pot%kind() /= MATNN_MODEL_POTENTIAL) call failed("kind() is not MATNN_MODEL_POTENTIAL")
  if (pot%precision() /= MATNN_PRECISION_FLOAT64) call failed("precision() is not FLOAT64")
  if (any(pot%species() /= [29])) call failed("species() is not [29]")
  if (pot%ensemble_size() /= 2) call failed("ensemble_size() is not 2")
  if (abs(pot%cutoff() - want_cutoff) > 1e-12_c_double) call failed("cutoff() is not the expected cutoff")
  if (abs(pot%interaction_range() - want_range) > 1e-12_c_double) &
    call failed("interaction_range() is not the expected range")
  if (iand(pot%outputs(), MATNN_OUTPUT_FORCES) == 0) call failed("outputs() lacks MATNN_OUTPUT_FORCES")

  call pot%compute(numbers, positions, cell, energy=energy, forces=forces, stress=stress, &
                   energy_sigma=sigma, force_deviation=deviation, max_force_deviation=max_dev, status=ierr)
  call expect("a good structure", ierr, MATNN_SUCCESS)
  if (.not. (sigma >= 0 .and. abs(max_dev - maxval(deviation)) <= 1e-12_c_double * max(1.0_c_double, max_dev))) &
    call failed("uncertainty outputs are inconsistent")
  if (abs(sum(forces)) > 1e-9_c_double) call failed("forces of a periodic cell do not sum to zero")

  numbers(2) = 1
  call pot%compute(numbers, positions, cell, energy=energy, status=ierr)
  call expect("an element the model does not know", ierr, MATNN_ERROR_UNKNOWN_ELEMENT)
  numbers(2) = 29

  positions(2, 3) = ieee_value(1.0_c_double, ieee_quiet_nan)
  call pot%compute(numbers, positions, cell, energy=energy, status=ierr)
  call expect("a NaN position", ierr, MATNN_ERROR_NON_FINITE)
  positions(2, 3) = 0

  positions(:, 4) = positions(:, 1)
  call pot%compute(numbers, positions, cell, energy=energy, status=ierr)
  call expect("two atoms on one site", ierr, MATNN_ERROR_GEOMETRY)
  positions(:, 4) = [0.0_c_double, 1.805_c_double, 1.805_c_double]

  call pot%compute(numbers, positions, cell, forces=short_forces, status=ierr)
  call expect("forces of the wrong shape", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  call pot%compute(numbers, positions(:, 1:3), cell, energy=energy, status=ierr)
  call expect("fewer positions than atoms", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  ! A slab (pbc T T F) has in-plane stress (xx, yy, xy) and 0 for zz, yz, xz; a wire has none.
  call pot%compute(numbers, positions, cell, pbc=[.true., .true., .false.], stress=stress, status=ierr)
  call expect("stress of a slab", ierr, MATNN_SUCCESS)
  if (any(stress(3:5) /= 0) .or. all(stress([1, 2, 6]) == 0)) call failed("a slab's stress is not in-plane only")
  call pot%compute(numbers, positions, cell, pbc=[.true., .false., .false.], stress=stress, status=ierr)
  call expect("stress of a wire", ierr, MATNN_ERROR_UNSUPPORTED)

  ! The whole free cluster as one rank's local atoms equals compute() without a cell.
  call pot%compute(numbers, positions, energy=energy, status=ierr)
  call expect("a free cluster", ierr, MATNN_SUCCESS)
  call pot%compute_local(4, numbers, positions, energy=energy_local, status=ierr)
  call expect("compute_local of the same cluster", ierr, MATNN_SUCCESS)
  if (abs(energy - energy_local) > 1e-10_c_double * abs(energy)) call failed("compute_local disagrees with compute")

  ! Layer 1: the C function on a handle of the wrong kind.
  call prop%load(prop_path, status=ierr)
  call expect("load the property model", ierr, MATNN_SUCCESS)
  code = matnn_potential_results_init(results)
  numbers_t = numbers
  positions_t = positions
  results%energy = c_loc(energy_t)
  code = matnn_potential_compute(prop%c_handle(), 4_c_int, c_loc(numbers_t), c_loc(positions_t), c_null_ptr, &
                                 c_null_ptr, results)
  call expect("matnn_potential_compute on a property model", int(code), MATNN_ERROR_MODEL)
  call prop%predict_compositions([29_c_int, 28_c_int], reshape([1.0_c_double, 0.0_c_double, 0.5_c_double, &
                                 0.5_c_double], [2, 2]), values, sigmas=sigmas, ood=ood, status=ierr)
  call expect("predict two compositions", ierr, MATNN_SUCCESS)
  if (any(sigmas < 0.0_c_double) .or. any(sigmas /= sigmas) .or. any(ood /= 0 .and. ood /= 1)) &
    call failed("predict_compositions did not fill sigmas and ood")
  call prop%predict_compositions([29_c_int, 28_c_int], reshape([1.0_c_double, 0.0_c_double, 0.5_c_double, &
                                 0.5_c_double], [2, 2]), values, sigmas=sigmas(1:1), status=ierr)
  call expect("sigmas of the wrong shape", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  call prop%predict_structures([1_c_int, 1_c_int], [29_c_int, 28_c_int], values, ood=ood(1:1), status=ierr)
  call expect("ood of the wrong shape", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  if (len(prop%name()) == 0) call failed("the property model has no name")
  call prop%predict_compositions([29_c_int], reshape([-1.0_c_double, 1.0_c_double], [1, 2]), values, status=ierr)
  call expect("a negative fraction", ierr, MATNN_ERROR_INVALID_ARGUMENT)

  ! Assigning from an object that holds no model releases the target's model (a loaded source
  ! would stop the program: two objects would own one handle).
  pot = unloaded
  if (pot%is_loaded()) call failed("pot = unloaded left pot loaded")
  call pot%destroy()
  call pot%destroy()
  if (pot%is_loaded()) call failed("destroy() left the handle")
  call prop%destroy()

  if (failures > 0) then
    write (error_unit, '(i0,a)') failures, " check(s) failed"
    error stop 1
  end if
  write (*, '(a)') "all checks passed"

contains

  subroutine expect(what, got, wanted)
    character(len=*), intent(in) :: what
    integer, intent(in) :: got, wanted
    if (got == wanted) then
      write (*, '(a,a,a)') "ok   ", what, " -> "//matnn_status_name(got)
    else
      write (*, '(a,a,a,a)') "FAIL ", what, ": got "//matnn_status_name(got)//", wanted ", &
        matnn_status_name(wanted)//" ("//matnn_error_message()//")"
      failures = failures + 1
    end if
  end subroutine expect

  subroutine failed(what)
    character(len=*), intent(in) :: what
    write (*, '(a,a)') "FAIL ", what
    failures = failures + 1
  end subroutine failed

end program fortran_misuse
