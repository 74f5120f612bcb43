export const usage = 'Usage: confab new plugin NAME\n';
export async function run(): Promise<number> {
  return 2;
}
