!> md_example: a minimal Fortran MD host of a matnn potential.
!>
!> Usage: md_example MODEL STRUCTURE [NSTEPS [DT_FS]]
!>
!> Loads the potential MODEL (float64 networks, metal units: eV, Angstrom), reads the periodic
!> cell of STRUCTURE, prints its energy and forces with 17 significant digits, then runs NSTEPS
!> (default 10) velocity-Verlet steps of DT_FS femtoseconds (default 1) from rest and prints
!> the potential, kinetic and total energy after each step.
!>
!> STRUCTURE is plain text; blank lines and lines starting with '#' are skipped:
!>     natoms
!>     ax ay az          lattice vector a (Angstrom)
!>     bx by bz          lattice vector b
!>     cx cy cz          lattice vector c
!>     Z x y z           natoms lines: atomic number and Cartesian position (Angstrom)
!> The cell is periodic along all three vectors.
!>
!> Output lines (fixed format, parsed by tests/python/bindings_cases.py):
!>     energy <E>
!>     force <i> <fx> <fy> <fz>
!>     step <n> <epot> <ekin> <etot>
program md_example
  use, intrinsic :: iso_c_binding, only: c_int, c_double
  use, intrinsic :: iso_fortran_env, only: error_unit
  use matnn
  implicit none

  ! 1 eV / (amu Angstrom) in Angstrom / fs^2, and 1 amu Angstrom^2 / fs^2 in eV.
  real(c_double), parameter :: accel_unit = 9.6485332123310018e-3_c_double
  real(c_double), parameter :: ekin_unit = 1.0_c_double / accel_unit

  type(matnn_potential) :: potential
  character(len=4096) :: model_path, structure_path, arg
  integer(c_int), allocatable :: numbers(:)
  real(c_double), allocatable :: positions(:, :), forces(:, :), velocities(:, :), masses(:)
  real(c_double) :: cell(3, 3), energy, ekin, dt
  integer :: natoms, nsteps, step, i, ierr

  if (command_argument_count() < 2) then
    write (error_unit, '(a)') "usage: md_example MODEL STRUCTURE [NSTEPS [DT_FS]]"
    error stop 1
  end if
  call get_command_argument(1, model_path)
  call get_command_argument(2, structure_path)
  nsteps = 10
  dt = 1.0_c_double
  if (command_argument_count() >= 3) then
    call get_command_argument(3, arg)
    read (arg, *) nsteps
  end if
  if (command_argument_count() >= 4) then
    call get_command_argument(4, arg)
    read (arg, *) dt
  end if

  ! A status argument: the host decides what a failure means (here: a message and exit 2).
  call potential%load(model_path, units=MATNN_UNITS_METAL, precision=MATNN_PRECISION_FLOAT64, status=ierr)
  if (ierr /= MATNN_SUCCESS) then
    write (error_unit, '(a)') "md_example: "//matnn_status_name(ierr)//": "//matnn_error_message()
    error stop 2
  end if
  write (*, '(a,a,a,f0.4,a,*(1x,i0))') "# matnn ", matnn_version_string(), ", cutoff ", potential%cutoff(), &
    " A, species", potential%species()

  call read_structure(trim(structure_path), natoms, cell, numbers, positions)
  allocate (forces(3, natoms), velocities(3, natoms), masses(natoms))
  do i = 1, natoms
    masses(i) = atomic_mass(numbers(i))
  end do

  ! No status argument from here on: a failure prints matnn's message and stops the program.
  call potential%compute(numbers, positions, cell, energy=energy, forces=forces)
  write (*, '(a,i0)') "natoms ", natoms
  write (*, '(a,es25.16e3)') "energy ", energy
  do i = 1, natoms
    write (*, '(a,i6,3es25.16e3)') "force ", i, forces(:, i)
  end do

  velocities = 0
  write (*, '(a,i6,3es25.16e3)') "step ", 0, energy, 0.0_c_double, energy
  do step = 1, nsteps
    do i = 1, natoms
      velocities(:, i) = velocities(:, i) + 0.5_c_double * dt * accel_unit * forces(:, i) / masses(i)
    end do
    positions = positions + dt * velocities
    call potential%compute(numbers, positions, cell, energy=energy, forces=forces)
    do i = 1, natoms
      velocities(:, i) = velocities(:, i) + 0.5_c_double * dt * accel_unit * forces(:, i) / masses(i)
    end do
    ekin = 0
    do i = 1, natoms
      ekin = ekin + 0.5_c_double * masses(i) * sum(velocities(:, i)**2) * ekin_unit
    end do
    write (*, '(a,i6,3es25.16e3)') "step ", step, energy, ekin, energy + ekin
  end do
  call potential%destroy()
  deallocate (numbers, positions, forces, velocities, masses)

contains

  !> Reads the next line that is neither blank nor a '#' comment.
  subroutine next_line(unit, line)
    integer, intent(in) :: unit
    character(len=*), intent(out) :: line
    integer :: ios
    do
      read (unit, '(a)', iostat=ios) line
      if (ios /= 0) then
        write (error_unit, '(a)') "md_example: "//trim(structure_path)//": unexpected end of file"
        error stop 3
      end if
      line = adjustl(line)
      if (len_trim(line) > 0 .and. line(1:1) /= "#") return
    end do
  end subroutine next_line

  subroutine read_structure(path, natoms, cell, numbers, positions)
    character(len=*), intent(in) :: path
    integer, intent(out) :: natoms
    real(c_double), intent(out) :: cell(3, 3)
    integer(c_int), allocatable, intent(out) :: numbers(:)
    real(c_double), allocatable, intent(out) :: positions(:, :)
    character(len=1024) :: line
    integer :: unit, ios, k
    open (newunit=unit, file=path, status="old", action="read", iostat=ios)
    if (ios /= 0) then
      write (error_unit, '(a)') "md_example: cannot open "//path
      error stop 3
    end if
    call next_line(unit, line)
    read (line, *, iostat=ios) natoms
    if (ios /= 0 .or. natoms < 1) call bad_line(path, line)
    ! cell(:, k) is lattice vector k: the k-th vector line fills the k-th column.
    do k = 1, 3
      call next_line(unit, line)
      read (line, *, iostat=ios) cell(:, k)
      if (ios /= 0) call bad_line(path, line)
    end do
    allocate (numbers(natoms), positions(3, natoms))
    do k = 1, natoms
      call next_line(unit, line)
      read (line, *, iostat=ios) numbers(k), positions(:, k)
      if (ios /= 0) call bad_line(path, line)
    end do
    close (unit)
  end subroutine read_structure

  subroutine bad_line(path, line)
    character(len=*), intent(in) :: path, line
    write (error_unit, '(a)') "md_example: "//path//": cannot read the line """//trim(line)//""""
    error stop 3
  end subroutine bad_line

  !> Standard atomic weights (amu) of the elements the examples use.
  function atomic_mass(z) result(mass)
    integer(c_int), intent(in) :: z
    real(c_double) :: mass
    select case (z)
    case (1); mass = 1.008_c_double
    case (6); mass = 12.011_c_double
    case (7); mass = 14.007_c_double
    case (8); mass = 15.999_c_double
    case (13); mass = 26.9815385_c_double
    case (14); mass = 28.085_c_double
    case (26); mass = 55.845_c_double
    case (28); mass = 58.6934_c_double
    case (29); mass = 63.546_c_double
    case (46); mass = 106.42_c_double
    case (47); mass = 107.8682_c_double
    case (78); mass = 195.084_c_double
    case (79); mass = 196.966569_c_double
    case default
      write (error_unit, '(a,i0,a)') "md_example: no mass for atomic number ", z, " (add it to atomic_mass)"
      error stop 3
    end select
  end function atomic_mass

end program md_example
