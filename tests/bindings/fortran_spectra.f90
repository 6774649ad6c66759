! A spectrum model from Fortran (matnn_property_model%predict_spectra): the patterns of
! bindings_cases.py's spectra case (a peak below or above 30 degrees) on the model's grid and on
! a finer one, and a size mismatch refused with MATNN_ERROR_INVALID_ARGUMENT.
! Usage: matnn_fortran_spectra MODEL.h5   (exit status 0 when every check passes)
program fortran_spectra
  use, intrinsic :: iso_c_binding
  use matnn
  implicit none
  type(matnn_property_model) :: model
  character(len=4096) :: path
  real(c_double) :: axis(201), fine(841), coarse(201, 6), dense(841, 6), values(6), again(6), sigmas(6)
  real(c_double), parameter :: centres(6) = [15.0d0, 22.0d0, 27.0d0, 34.0d0, 40.0d0, 45.0d0]
  integer :: i, k, status, failures, correct
  failures = 0
  call get_command_argument(1, path)
  call model%load(trim(path))
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
  print '(a, 6f4.0, a, i0, a)', "classes ", values, " (", correct, " of 6 right)"
  if (correct < 5) failures = failures + 1
  call model%predict_spectra(fine, dense, again, status=status)
  if (status /= MATNN_SUCCESS .or. any(again /= values)) failures = failures + 1
  call model%predict_spectra(axis(1:200), coarse, values, status=status)
  if (status /= MATNN_ERROR_INVALID_ARGUMENT) failures = failures + 1
  call model%destroy()
  if (failures > 0) then
    print '(i0, a)', failures, " check(s) failed"
    stop 1
  end if
  print '(a)', "ok"
end program fortran_spectra
