! Spectrum and image models from Fortran (matnn_property_model%predict_spectra, %predict_images).
! Spectra: the patterns of bindings_cases.py's spectra case (a peak below or above 30 degrees) on
! the model's grid and on a finer one, and a size mismatch refused. Images: the test images of its
! images case, read from the file it wrote, must give Python's predictions (to float32 round-off
! of other thread counts: the Fortran array pixels(width, height, channels, n) is the C layout, and
! any other order gives other values), and a wrong count is refused.
! Usage: matnn_fortran_signals SPECTRUM_MODEL.h5 IMAGE_MODEL.h5 IMAGES_CHECK.txt
! (exit status 0 when every check passes)
program fortran_signals
  use, intrinsic :: iso_c_binding
  use matnn
  implicit none
  integer :: failures
  character(len=4096) :: path
  failures = 0
  call get_command_argument(1, path)
  call check_spectra(trim(path))
  call get_command_argument(2, path)
  block
    character(len=4096) :: check_file
    call get_command_argument(3, check_file)
    call check_images(trim(path), trim(check_file))
  end block
  if (failures > 0) then
    print '(i0, a)', failures, " check(s) failed"
    stop 1
  end if
  print '(a)', "ok"

contains

  subroutine check_spectra(model_path)
    character(len=*), intent(in) :: model_path
    type(matnn_property_model) :: model
    real(c_double) :: axis(201), fine(841), coarse(201, 6), dense(841, 6), values(6), again(6), sigmas(6)
    real(c_double), parameter :: centres(6) = [15.0d0, 22.0d0, 27.0d0, 34.0d0, 40.0d0, 45.0d0]
    integer :: i, k, status, correct
    call model%load(model_path)
    do i = 1, 201
      axis(i) = 10.0d0 + 0.2d0 * (i - 1)
    end do
    do i = 1, 841
      fine(i) = 9.0d0 + 0.05d0 * (i - 1)
    end do
    do k = 1, 6
      coarse(:, k) = exp(-0.5d0 * ((axis - centres(k)) / 0.4d0)**2) + 0.3d0 * exp(-0.5d0 * ((axis - 20.0d0) / 0.4d0)**2)
      dense(:, k) = 1000.0d0 * (exp(-0.5d0 * ((fine - centres(k)) / 0.4d0)**2) + &
                                0.3d0 * exp(-0.5d0 * ((fine - 20.0d0) / 0.4d0)**2))
    end do
    call model%predict_spectra(axis, coarse, values, sigmas=sigmas, status=status)
    if (status /= MATNN_SUCCESS) failures = failures + 1
    correct = count((values > 0.5d0) .eqv. (centres > 30.0d0))
    print '(a, 6f4.0, a, i0, a)', "spectra: classes ", values, " (", correct, " of 6 right)"
    if (correct < 5) failures = failures + 1
    call model%predict_spectra(fine, dense, again, status=status)
    if (status /= MATNN_SUCCESS .or. any(again /= values)) failures = failures + 1
    call model%predict_spectra(axis(1:200), coarse, values, status=status)
    if (status /= MATNN_ERROR_INVALID_ARGUMENT) failures = failures + 1
    call model%destroy()
  end subroutine check_spectra

  subroutine check_images(model_path, check_file)
    character(len=*), intent(in) :: model_path, check_file
    type(matnn_property_model) :: model
    real(c_double), allocatable :: pixels(:, :, :, :), expected(:), values(:), sigmas(:), embeddings(:, :)
    real(c_double), allocatable :: sizes(:)
    integer(c_int), allocatable :: ood(:)
    integer :: unit, n, height, width, k, y, x, status
    open (newunit=unit, file=check_file, status="old", action="read")
    read (unit, *) n, height, width
    allocate (pixels(width, height, 1, n), expected(n), values(n), sigmas(n), ood(n), sizes(n))
    do k = 1, n  ! the file is in C order: image, row, column
      do y = 1, height
        do x = 1, width
          read (unit, *) pixels(x, y, 1, k)
        end do
      end do
    end do
    read (unit, *) expected
    close (unit)
    sizes = 10.0d0
    call model%load(model_path)
    allocate (embeddings(model%embedding_width(), n))
    call model%predict_images(sizes, pixels, values, sigmas=sigmas, ood=ood, status=status, embeddings=embeddings)
    print '(a, i0, a, es10.3)', "images: ", n, " predicted, largest difference from Python ", &
      maxval(abs(values - expected))
    if (status /= MATNN_SUCCESS .or. any(ood /= 0)) failures = failures + 1
    if (any(abs(values - expected) > 1d-5 * max(1d0, abs(expected)))) failures = failures + 1
    call model%predict_images(sizes(1:n - 1), pixels, values, status=status)
    if (status /= MATNN_ERROR_INVALID_ARGUMENT) failures = failures + 1
    call model%destroy()
  end subroutine check_images

end program fortran_signals
