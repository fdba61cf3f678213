import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../server/config.ts';
import { parsePopulationCsv } from '../../server/representativeness/population-file.ts';

describe('POPULATION_FILE', () => {
  it('when the CSV is well formed, then its rows are read with numeric counts', () => {
    const rows = parsePopulationCsv('\uFEFFdistrict,age_band,gender,count\r\narbat,25-34,female,1200\nmarfino,65plus,male,0\n');
    expect(rows).toEqual([
      { district: 'arbat', age_band: '25-34', gender: 'female', count: 1200 },
      { district: 'marfino', age_band: '65plus', gender: 'male', count: 0 },
    ]);
  });

  it.each([
    ['', /empty/],
    ['district,band,gender,count\narbat,25-34,female,1', /header must be "district,age_band,gender,count"/],
    ['district,age_band,gender,count\natlantis,25-34,female,1', /line 2: district: unknown district/],
    ['district,age_band,gender,count\narbat,25-30,female,1', /line 2: age_band/],
    ['district,age_band,gender,count\narbat,25-34,female,-3', /line 2: count: must be a whole number/],
    ['district,age_band,gender,count\narbat,25-34,female', /line 2: 3 fields, expected 4/],
    ['district,age_band,gender,count\narbat,25-34,female,1\narbat,25-34,female,2', /line 3: duplicate row/],
  ])('when the CSV is %j, then it is refused with a message naming the problem', (text, re) => {
    expect(() => parsePopulationCsv(text)).toThrow(re);
  });

  it('when POPULATION_FILE names a bad or missing file, then start-up stops with one line naming the variable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-pop-'));
    try {
      writeFileSync(join(dir, 'bad.csv'), 'district,age_band,gender,count\narbat,25-34,female,many\n');
      expect(() => loadConfig({ POPULATION_FILE: join(dir, 'bad.csv') })).toThrow(ConfigError);
      expect(() => loadConfig({ POPULATION_FILE: join(dir, 'bad.csv') })).toThrow(/^invalid configuration: POPULATION_FILE: line 2: count: must be a whole number$/);
      expect(() => loadConfig({ POPULATION_FILE: join(dir, 'missing.csv') })).toThrow(/POPULATION_FILE: cannot read .*missing\.csv: ENOENT/);
      writeFileSync(join(dir, 'good.csv'), 'district,age_band,gender,count\narbat,25-34,female,7\n');
      expect(loadConfig({ POPULATION_FILE: join(dir, 'good.csv') }).POPULATION).toHaveLength(1);
      expect(loadConfig({}).POPULATION).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
