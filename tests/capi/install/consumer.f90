! The smallest Fortran host: use the installed module, check the version, and make one call that
! fails on purpose with the status argument present.
program consumer
  use matnn
  implicit none
  type(matnn_potential) :: pot
  integer :: ierr

  call pot%load("no-such-model.h5", status=ierr)
  print '(a, a, a, a)', "matnn ", matnn_version_string(), ": ", matnn_status_name(ierr)
  if (ierr /= MATNN_ERROR_IO) error stop "expected MATNN_ERROR_IO for a missing model file"
  if (pot%is_loaded()) error stop "a failed load left a handle behind"
end program consumer
