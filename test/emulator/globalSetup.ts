// Decides once per jest run whether the emulator tests (test/emulator) can run: they need moto's
// server under python3. In CI a missing moto is a failure; elsewhere the emulator tests are skipped
// with one line saying why, and the rest of the suite runs.
import { motoUnavailableReason } from '../helpers/moto';

export default function globalSetup(): void {
  const reason = motoUnavailableReason();
  if (!reason) return;
  if (process.env.CI) {
    throw new Error(`emulator tests cannot run in CI: ${reason}`);
  }
  process.env.K3SCTL_EMULATOR_SKIPPED = reason;
  process.stderr.write(`emulator tests skipped: ${reason}; see README "Emulator tests"\n`);
}
