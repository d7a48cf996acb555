// Opens the database at argv[2] as this process's user and prints what happened as one JSON line: run by
// database.test.ts as a user who cannot write the file or its directory.
import { Database } from '../../src/storage/database.ts';

try {
  const database = Database.open({ path: String(process.argv[2]) });
  await database.close();
  process.stdout.write(`${JSON.stringify({ opened: true })}\n`);
} catch (error) {
  const { name, message } = error as Error;
  process.stdout.write(
    `${JSON.stringify({ opened: false, name, code: (error as { code?: string }).code, message })}\n`,
  );
}
