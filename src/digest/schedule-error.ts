/** A schedule or time zone an admin typed that cannot be used; its message is shown to the admin as is. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}
