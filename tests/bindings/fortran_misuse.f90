!> fortran_misuse: a Fortran host that makes mistakes on purpose and checks the status each one
!> gets through the optional `status` argument of module matnn (and that the program goes on).
!>
!> Usage: fortran_misuse POTENTIAL_MODEL PROPERTY_MODEL [CUTOFF RANGE]
!> CUTOFF and RANGE (Angstrom, default 4.5 and 4.5) are the potential's cutoff and interaction
!> range: equal for Behler-Parrinello, cutoff x interaction blocks for NequIP.
!> It also checks the ABI-2 outputs through the module: per-atom virials, and compute_local with
!> the host's neighbour list.
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
  real(c_double) :: virials(6, 4), volume, energy_listed
  real(c_double), allocatable :: shell_positions(:, :), searched_forces(:, :), listed_forces(:, :), &
    listed_virials(:, :), folded(:, :)
  integer(c_int), allocatable :: shell_numbers(:), offsets(:), neighbors(:), bad(:)
  integer, allocatable :: owners(:)
  integer :: i, n_all, in_skin
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

  ! Per-atom virials of the periodic cell sum to volume x stress (ASE's sign).
  call pot%compute(numbers, positions, cell, energy=energy, forces=forces, stress=stress, virials=virials, &
                   status=ierr)
  call expect("per-atom virials", ierr, MATNN_SUCCESS)
  volume = cell(1, 1) * cell(2, 2) * cell(3, 3)
  if (maxval(abs(volume * stress)) < 1e-3_c_double) call failed("volume x stress is ~0: the virial sum proves little")
  write (*, '(a,6f10.5,a,es9.1)') "volume x stress", volume * stress, "; sum of virials off by", &
    maxval(abs(sum(virials, dim=2) - volume * stress))
  if (maxval(abs(sum(virials, dim=2) - volume * stress)) > 1e-10_c_double * maxval(abs(volume * stress))) &
    call failed("per-atom virials do not sum to volume x stress")
  call pot%compute(numbers, positions, cell, virials=virials(:, 1:3), status=ierr)
  call expect("virials of the wrong shape", ierr, MATNN_ERROR_INVALID_ARGUMENT)

  ! compute_local with the host's neighbour list: the cell's atoms, then their images within the
  ! interaction range as ghosts, every atom listing all others within cutoff + 1 A (a skin that
  ! matnn skips). It must give what matnn's own search gives, and with the ghosts' shares added
  ! to their owners, the periodic cell's energy, forces and volume x stress.
  call ghost_shell(positions, cell, want_range, shell_positions, owners)
  n_all = size(owners)
  allocate (shell_numbers(n_all), searched_forces(3, n_all), listed_forces(3, n_all), listed_virials(6, n_all))
  shell_numbers = 29
  call brute_force_list(shell_positions, want_cutoff, 1.0_c_double, offsets, neighbors, in_skin)
  if (in_skin == 0) call failed("no listed pair lies in the skin: the list proves little")
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_local, forces=searched_forces, status=ierr)
  call expect("compute_local of a ghost shell, matnn searching", ierr, MATNN_SUCCESS)
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_listed, forces=listed_forces, &
                         virials=listed_virials, neighbor_offsets=offsets, neighbors=neighbors, status=ierr)
  call expect("compute_local with the host's neighbour list", ierr, MATNN_SUCCESS)
  if (abs(energy_listed - energy_local) > 1e-10_c_double .or. &
      maxval(abs(listed_forces - searched_forces)) > 1e-10_c_double) &
    call failed("the host's neighbour list changes the energy or forces")
  allocate (folded(3, 4))
  folded = 0
  do i = 1, n_all
    folded(:, owners(i)) = folded(:, owners(i)) + listed_forces(:, i)
  end do
  write (*, '(a,i0,a,i0,a,i0,a,3es9.1)') "host list: ", n_all - 4, " ghosts, ", size(neighbors), " pairs (", &
    in_skin, " in the skin); |dE| vs search, periodic, max |dF| folded: ", abs(energy_listed - energy_local), &
    abs(energy_listed - energy), maxval(abs(folded - forces))
  if (abs(energy_listed - energy) > 1e-10_c_double .or. maxval(abs(folded - forces)) > 1e-10_c_double) &
    call failed("compute_local with ghosts folded onto owners differs from the periodic cell")
  if (maxval(abs(sum(listed_virials, dim=2) - volume * stress)) > 1e-10_c_double * maxval(abs(volume * stress))) &
    call failed("compute_local's per-atom virials do not sum to volume x stress")
  ! Malformed lists: the library's check (with its message), then the module's own.
  bad = neighbors
  bad(offsets(2) + 1) = n_all  ! the first candidate of atom 1 (0-based): one past the last atom
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_listed, neighbor_offsets=offsets, &
                         neighbors=bad, status=ierr)
  call expect("a neighbour index out of range", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  if (index(matnn_error_message(), "neighbours of atom 1: index") == 0 .or. &
      index(matnn_error_message(), "is not an atom") == 0) &
    call failed("the message does not name the bad index: "//matnn_error_message())
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_listed, neighbor_offsets=offsets, &
                         status=ierr)
  call expect("neighbor_offsets without neighbors", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_listed, neighbor_offsets=offsets(1:n_all), &
                         neighbors=neighbors(1:offsets(n_all)), status=ierr)
  call expect("neighbor_offsets of natoms values", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  call pot%compute_local(4, shell_numbers, shell_positions, energy=energy_listed, neighbor_offsets=offsets, &
                         neighbors=neighbors(1:size(neighbors) - 1), status=ierr)
  call expect("neighbors shorter than neighbor_offsets says", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  if (index(matnn_error_message(), "size(neighbors)") == 0) &
    call failed("the message does not name the argument: "//matnn_error_message())

  ! Layer 1: the C function on a handle of the wrong kind.
  call prop%load(prop_path, status=ierr)
  call expect("load the property model", ierr, MATNN_SUCCESS)
  code = matnn_potential_results_init2(results, c_sizeof(results))
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
  ! Whole structures (two one-atom cubic cells): the same values as their atoms alone for a
  ! composition model; embeddings of the model's width; a wrong shape is refused.
  block
    real(c_double) :: cells(3, 3, 2), xyz(3, 2), by_atoms(2), by_numbers(2)
    real(c_double), allocatable :: embeddings(:, :)
    integer(c_int) :: flags(3, 2)
    cells = 0.0_c_double
    cells(1, 1, :) = 3.0_c_double
    cells(2, 2, :) = 3.0_c_double
    cells(3, 3, :) = 3.0_c_double
    xyz = 0.0_c_double
    flags = 1_c_int
    call prop%predict_atoms([1_c_int, 1_c_int], [29_c_int, 28_c_int], xyz, cells, flags, by_atoms, status=ierr)
    call expect("predict_atoms", ierr, MATNN_SUCCESS)
    call prop%predict_structures([1_c_int, 1_c_int], [29_c_int, 28_c_int], by_numbers, status=ierr)
    if (any(abs(by_atoms - by_numbers) > 1.0e-6_c_double)) call failed("predict_atoms differs from predict_structures")
    allocate (embeddings(prop%embedding_width(), 2))
    call prop%embed_atoms([1_c_int, 1_c_int], [29_c_int, 28_c_int], xyz, cells, flags, embeddings, status=ierr)
    call expect("embed_atoms", ierr, MATNN_SUCCESS)
    call prop%predict_atoms([1_c_int, 1_c_int], [29_c_int, 28_c_int], xyz, cells(:, :, 1:1), flags, by_atoms, &
                            status=ierr)
    call expect("cells of the wrong shape", ierr, MATNN_ERROR_INVALID_ARGUMENT)
    ! A seed goes to matnn_property_predict_atoms_mc, which needs Monte-Carlo samples.
    call prop%predict_atoms([1_c_int, 1_c_int], [29_c_int, 28_c_int], xyz, cells, flags, by_atoms, seed=7_c_int64_t, &
                            status=ierr)
    call expect("a seed without Monte-Carlo samples", ierr, MATNN_ERROR_INVALID_ARGUMENT)
  end block
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
  ! A main program's allocatables live to the end and are never freed for it: free them, or
  ! LeakSanitizer (scripts/run-tests.sh's ASan build) reports them.
  if (allocated(shell_positions)) deallocate (shell_positions)
  if (allocated(searched_forces)) deallocate (searched_forces)
  if (allocated(listed_forces)) deallocate (listed_forces)
  if (allocated(listed_virials)) deallocate (listed_virials)
  if (allocated(folded)) deallocate (folded)
  if (allocated(shell_numbers)) deallocate (shell_numbers)
  if (allocated(offsets)) deallocate (offsets)
  if (allocated(neighbors)) deallocate (neighbors)
  if (allocated(bad)) deallocate (bad)
  if (allocated(owners)) deallocate (owners)

  if (failures > 0) then
    write (error_unit, '(i0,a)') failures, " check(s) failed"
    error stop 1
  end if
  write (*, '(a)') "all checks passed"

contains

  !> The atoms x (3, n) of the cell with lattice vectors as columns, followed by their periodic
  !> images within `shell` of one of them; owners(i) is the atom that atom i is an image of.
  subroutine ghost_shell(x, lattice, shell, all, owners)
    real(c_double), intent(in) :: x(:, :), lattice(3, 3), shell
    real(c_double), allocatable, intent(out) :: all(:, :)
    integer, allocatable, intent(out) :: owners(:)
    real(c_double), allocatable :: found(:, :)
    integer, allocatable :: found_owner(:)
    real(c_double) :: image(3)
    integer :: n, k, a, b, c, atom, m
    n = size(x, 2)
    k = ceiling(shell / minval([(norm2(lattice(:, a)), a = 1, 3)])) + 1  ! the cell is orthorhombic here
    allocate (found(3, n * (2 * k + 1)**3), found_owner(n * (2 * k + 1)**3))
    found(:, 1:n) = x
    found_owner(1:n) = [(atom, atom = 1, n)]
    m = n
    do c = -k, k
      do b = -k, k
        do a = -k, k
          if (a == 0 .and. b == 0 .and. c == 0) cycle
          do atom = 1, n
            image = x(:, atom) + matmul(lattice, real([a, b, c], c_double))
            if (minval(norm2(x - spread(image, 2, n), dim=1)) < shell) then
              m = m + 1
              found(:, m) = image
              found_owner(m) = atom
            end if
          end do
        end do
      end do
    end do
    all = found(:, 1:m)
    owners = found_owner(1:m)
  end subroutine ghost_shell

  !> Every pair closer than cutoff + skin, as compute_local's CSR list (0-based, as in C);
  !> in_skin counts the listed pairs at or beyond the cutoff.
  subroutine brute_force_list(x, cutoff, skin, offsets, neighbors, in_skin)
    real(c_double), intent(in) :: x(:, :), cutoff, skin
    integer(c_int), allocatable, intent(out) :: offsets(:), neighbors(:)
    integer, intent(out) :: in_skin
    real(c_double) :: d
    integer :: n, i, j, pass, m
    n = size(x, 2)
    allocate (offsets(n + 1), neighbors(0))
    do pass = 1, 2  ! count, then fill
      m = 0
      in_skin = 0
      offsets(1) = 0
      do i = 1, n
        do j = 1, n
          if (j == i) cycle
          d = norm2(x(:, j) - x(:, i))
          if (d >= cutoff + skin) cycle
          m = m + 1
          if (d >= cutoff) in_skin = in_skin + 1
          if (pass == 2) neighbors(m) = int(j - 1, c_int)
        end do
        offsets(i + 1) = int(m, c_int)
      end do
      if (pass == 1) then
        deallocate (neighbors)
        allocate (neighbors(m))
      end if
    end do
  end subroutine brute_force_list

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
