!> retrain_mpi: an MPI host that computes reference data, adds it to a training dataset and
!> retrains a matnn surrogate on all its ranks, the loop of a DFT or MD code that learns as it
!> goes.
!>
!> Usage: mpirun -np N retrain_mpi WORKDIR
!>
!> The reference is a Lennard-Jones model of argon written here (epsilon 10.4 meV, sigma
!> 3.40 Angstrom, cut and shifted at 6.5 Angstrom): cheap, exact forces, and known to no one
!> but this program. Two rounds, as a host would run them:
!>   1. every rank computes its share of distorted fcc cells (32 atoms, random strain and
!>      displacements), rank 0 gathers them and appends them to WORKDIR/argon.h5 (created),
!>      and all ranks train a Behler-Parrinello potential on the file together
!>      (matnn_train_model with comm=);
!>   2. the "simulation" reaches hotter states: larger displacements are computed, appended, and
!>      the potential is retrained from the first model (model.init_from) on all the data.
!> Rank 0 then checks both models on fresh hot cells against the reference and prints the errors.
!> Exit status: 0 when the retrained model's force error on the hot cells is below 20 % of the
!> mean reference force and below the first model's, 1 otherwise, 2 on a matnn error.
program retrain_mpi
  use, intrinsic :: iso_c_binding, only: c_int, c_double
  use, intrinsic :: iso_fortran_env, only: error_unit, output_unit
  use mpi
  use matnn
  implicit none

  integer, parameter :: natoms = 32, per_rank = 24, argon = 18
  real(c_double), parameter :: epsilon_lj = 0.0104_c_double, sigma_lj = 3.40_c_double, cutoff = 6.5_c_double
  real(c_double), parameter :: lattice = 5.30_c_double

  character(len=4096) :: workdir
  character(len=:), allocatable :: dataset, first_model, retrained_model
  integer :: rank, ranks, ierr, status
  real(c_double) :: first_error(2), retrained_error(2), mean_force

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, ranks, ierr)
  if (command_argument_count() /= 1) then
    if (rank == 0) write (error_unit, '(a)') "usage: mpirun -np N retrain_mpi WORKDIR"
    call MPI_Abort(MPI_COMM_WORLD, 2, ierr)
  end if
  call get_command_argument(1, workdir)
  dataset = trim(workdir)//"/argon.h5"
  first_model = trim(workdir)//"/argon_1.model.h5"
  retrained_model = trim(workdir)//"/argon_2.model.h5"

  ! Round 1: near-equilibrium cells, a new dataset, a first model.
  call add_reference_data(0.04_c_double, 1)
  call write_config(trim(workdir)//"/round1.json", first_model, "")
  call matnn_train_model(trim(workdir)//"/round1.json", comm=MPI_COMM_WORLD, status=status)
  call stop_on_error(status, "training round 1")

  ! Round 2: hotter cells appended; the model continues from the first.
  call add_reference_data(0.12_c_double, 2)
  call write_config(trim(workdir)//"/round2.json", retrained_model, first_model)
  call matnn_train_model(trim(workdir)//"/round2.json", comm=MPI_COMM_WORLD, status=status)
  call stop_on_error(status, "training round 2")

  if (rank == 0) then
    call test_model(first_model, first_error, mean_force)
    call test_model(retrained_model, retrained_error, mean_force)
    write (output_unit, '(a,f8.3,a)') "hot test cells: mean reference force ", 1000 * mean_force, " meV/A"
    write (output_unit, '(a,f8.3,a,f8.3,a)') "  first model:     energy MAE ", 1000 * first_error(1), &
      " meV/atom, force MAE ", 1000 * first_error(2), " meV/A"
    write (output_unit, '(a,f8.3,a,f8.3,a)') "  retrained model: energy MAE ", 1000 * retrained_error(1), &
      " meV/atom, force MAE ", 1000 * retrained_error(2), " meV/A"
    if (retrained_error(2) > 0.2_c_double * mean_force .or. retrained_error(2) >= first_error(2)) then
      write (error_unit, '(a)') "retrain_mpi: the retrained model does not reproduce the hot cells"
      call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
    end if
  end if
  call MPI_Finalize(ierr)

contains

  !> A matnn failure: the message, then every rank ends (matnn returned the same status on all).
  subroutine stop_on_error(code, what)
    integer, intent(in) :: code
    character(len=*), intent(in) :: what
    integer :: err
    if (code == MATNN_SUCCESS) return
    write (error_unit, '(a,i0,a)') "retrain_mpi: rank ", rank, ": "//what//": "//matnn_status_name(code)//": "// &
      matnn_error_message()
    call MPI_Abort(MPI_COMM_WORLD, 2, err)
  end subroutine stop_on_error

  !> Lennard-Jones energy and forces of a periodic cell (all images within the cutoff).
  subroutine lennard_jones(positions, cell, energy, forces)
    real(c_double), intent(in) :: positions(:, :), cell(3, 3)
    real(c_double), intent(out) :: energy, forces(:, :)
    real(c_double) :: d(3), r2, sr6, shift, f
    integer :: i, j, a, b, c
    shift = 4 * epsilon_lj * ((sigma_lj / cutoff)**12 - (sigma_lj / cutoff)**6)
    energy = 0
    forces = 0
    do i = 1, size(positions, 2)
      do j = 1, size(positions, 2)
        do a = -1, 1
          do b = -1, 1
            do c = -1, 1
              if (i == j .and. a == 0 .and. b == 0 .and. c == 0) cycle
              d = positions(:, j) + a * cell(:, 1) + b * cell(:, 2) + c * cell(:, 3) - positions(:, i)
              r2 = sum(d * d)
              if (r2 >= cutoff * cutoff) cycle
              sr6 = (sigma_lj * sigma_lj / r2)**3
              energy = energy + 0.5_c_double * (4 * epsilon_lj * (sr6 * sr6 - sr6) - shift)
              ! -dE/dr_i of the pair, halved: each pair is visited from both ends.
              f = 24 * epsilon_lj * (2 * sr6 * sr6 - sr6) / r2
              forces(:, i) = forces(:, i) - f * d
            end do
          end do
        end do
      end do
    end do
  end subroutine lennard_jones

  !> A 2x2x2 fcc cell (32 atoms) strained by up to 3 % and displaced by `amplitude` Angstrom.
  subroutine distorted_cell(amplitude, seed, positions, cell)
    real(c_double), intent(in) :: amplitude
    integer, intent(inout) :: seed
    real(c_double), intent(out) :: positions(3, natoms), cell(3, 3)
    real(c_double), parameter :: basis(3, 4) = reshape([0.0_c_double, 0.0_c_double, 0.0_c_double, &
                                                         0.5_c_double, 0.5_c_double, 0.0_c_double, &
                                                         0.5_c_double, 0.0_c_double, 0.5_c_double, &
                                                         0.0_c_double, 0.5_c_double, 0.5_c_double], [3, 4])
    real(c_double) :: strain(3, 3), fractional(3)
    integer :: i, j, k, m, n, a
    do a = 1, 3
      do m = 1, 3
        strain(m, a) = 0.03_c_double * (2 * uniform(seed) - 1)
      end do
    end do
    strain = 0.5_c_double * (strain + transpose(strain))
    cell = 0
    do a = 1, 3
      cell(a, a) = 2 * lattice
    end do
    cell = cell + matmul(strain, cell)
    n = 0
    do i = 0, 1
      do j = 0, 1
        do k = 0, 1
          do m = 1, 4
            n = n + 1
            fractional = (basis(:, m) + [i, j, k]) / 2
            positions(:, n) = matmul(cell, fractional)
            do a = 1, 3
              positions(a, n) = positions(a, n) + amplitude * (2 * uniform(seed) - 1)
            end do
          end do
        end do
      end do
    end do
  end subroutine distorted_cell

  !> A uniform number in [0, 1) from a 31-bit linear congruential stream (the same on every
  !> compiler, so the example's data is reproducible).
  real(c_double) function uniform(seed)
    integer, intent(inout) :: seed
    seed = int(modulo(1103515245_8 * seed + 12345_8, 2147483648_8))
    uniform = real(seed, c_double) / 2147483648.0_c_double
  end function uniform

  !> Each rank computes per_rank cells; rank 0 gathers them and appends all to the dataset.
  subroutine add_reference_data(amplitude, round)
    real(c_double), intent(in) :: amplitude
    integer, intent(in) :: round
    real(c_double) :: positions(3, natoms, per_rank), forces(3, natoms, per_rank), cells(3, 3, per_rank)
    real(c_double) :: energies(per_rank)
    real(c_double), allocatable :: all_positions(:, :, :), all_forces(:, :, :), all_cells(:, :, :), all_energies(:)
    integer(c_int), allocatable :: natoms_of(:), numbers(:)
    integer :: s, seed, total, err
    seed = 1000 * round + 17 * rank + 1
    do s = 1, per_rank
      call distorted_cell(amplitude, seed, positions(:, :, s), cells(:, :, s))
      call lennard_jones(positions(:, :, s), cells(:, :, s), energies(s), forces(:, :, s))
    end do
    total = per_rank * ranks
    allocate (all_positions(3, natoms, total), all_forces(3, natoms, total), all_cells(3, 3, total), all_energies(total))
    call MPI_Gather(positions, size(positions), MPI_DOUBLE_PRECISION, all_positions, size(positions), &
                    MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, err)
    call MPI_Gather(forces, size(forces), MPI_DOUBLE_PRECISION, all_forces, size(forces), &
                    MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, err)
    call MPI_Gather(cells, size(cells), MPI_DOUBLE_PRECISION, all_cells, size(cells), &
                    MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, err)
    call MPI_Gather(energies, size(energies), MPI_DOUBLE_PRECISION, all_energies, size(energies), &
                    MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, err)
    status = MATNN_SUCCESS
    if (rank == 0) then
      allocate (natoms_of(total), numbers(natoms * total))
      natoms_of = natoms
      numbers = argon
      ! The arrays are (3, natoms, structures): structure after structure, as the call wants.
      call matnn_append_dataset(dataset, natoms_of, numbers, reshape(all_positions, [3, natoms * total]), &
                                cells=all_cells, energies=all_energies, &
                                forces=reshape(all_forces, [3, natoms * total]), &
                                config_type="round"//achar(iachar('0') + round), status=status)
      write (output_unit, '(a,i0,a,i0,a,a)') "round ", round, ": appended ", total, " cells to ", dataset
    end if
    ! The others learn of a failure on rank 0 before they train on the file.
    call MPI_Bcast(status, 1, MPI_INTEGER, 0, MPI_COMM_WORLD, err)
    call stop_on_error(status, "appending to the dataset")
  end subroutine add_reference_data

  !> The training config of one round (rank 0 writes it; every rank reads it).
  subroutine write_config(path, model, init_from)
    character(len=*), intent(in) :: path, model, init_from
    integer :: unit, err
    if (rank == 0) then
      open (newunit=unit, file=path, status="replace", action="write")
      write (unit, '(a)') '{"dataset": "'//dataset//'", "seed": 5,'
      write (unit, '(a)') ' "model": {"kind": "behler_parrinello", "cutoff": 6.5, "radial": {"count": 8},'
      write (unit, '(a)') '           "angular": {"zeta": [1, 4]}, "hidden": [16, 16], "precision": "float64"'
      if (len(init_from) > 0) then
        write (unit, '(a)') '           , "init_from": "'//init_from//'"},'
      else
        write (unit, '(a)') '          },'
      end if
      write (unit, '(a)') ' "split": {"kind": "random", "validation": 0.1, "test": 0.0},'
      write (unit, '(a)') ' "training": {"epochs": 40, "batch_size": 8, "energy_weight": 10.0, "forces_weight": 1.0},'
      write (unit, '(a)') ' "optimizer": {"name": "adam", "lr": 0.005},'
      write (unit, '(a)') ' "schedule": {"name": "cosine", "min_lr": 0.0001},'
      write (unit, '(a)') ' "output": {"model": "'//model//'"}}'
      close (unit)
    end if
    call MPI_Barrier(MPI_COMM_WORLD, err)
  end subroutine write_config

  !> Energy MAE per atom and force MAE per component of `model` on 12 hot cells, and the mean
  !> absolute reference force component.
  subroutine test_model(model, errors, mean_force)
    character(len=*), intent(in) :: model
    real(c_double), intent(out) :: errors(2), mean_force
    type(matnn_potential) :: potential
    real(c_double) :: positions(3, natoms), cell(3, 3), reference_forces(3, natoms), forces(3, natoms)
    real(c_double) :: reference_energy, energy
    integer(c_int) :: numbers(natoms)
    integer :: s, seed
    integer, parameter :: cells = 12
    numbers = argon
    call potential%load(model, precision=MATNN_PRECISION_FLOAT64, status=status)
    call stop_on_error(status, "loading "//model)
    errors = 0
    mean_force = 0
    seed = 99991
    do s = 1, cells
      call distorted_cell(0.12_c_double, seed, positions, cell)
      call lennard_jones(positions, cell, reference_energy, reference_forces)
      call potential%compute(numbers, positions, cell=cell, energy=energy, forces=forces, status=status)
      call stop_on_error(status, "computing with "//model)
      errors(1) = errors(1) + abs(energy - reference_energy) / natoms
      errors(2) = errors(2) + sum(abs(forces - reference_forces)) / (3 * natoms)
      mean_force = mean_force + sum(abs(reference_forces)) / (3 * natoms)
    end do
    errors = errors / cells
    mean_force = mean_force / cells
  end subroutine test_model

end program retrain_mpi
