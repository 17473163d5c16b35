import assert from 'node:assert/strict';
import test from 'node:test';
import { countPeople, sumCounts } from './people.eval.ts';

test('people found pair one to one by box overlap, best score first; the rest are phantoms', () => {
  const labels = [
    { box: [0, 0, 100, 200], partial: false },
    { box: [300, 0, 50, 60], partial: true },
  ];
  const detections = [
    { box: [5, 10, 100, 190], score: 0.9 }, // the first person
    { box: [0, 0, 110, 210], score: 0.5 }, // the same person again: a phantom
    { box: [310, 5, 45, 60], score: 0.4 }, // the partial person
    { box: [500, 100, 40, 80], score: 0.3 }, // nobody there
  ];
  assert.deepEqual(countPeople(labels, detections), { present: 2, found: 2, presentWhole: 1, foundWhole: 1, phantoms: 2 });
  assert.deepEqual(countPeople(labels, [{ box: [60, 0, 100, 200], score: 0.9 }]), { present: 2, found: 0, presentWhole: 1, foundWhole: 0, phantoms: 1 });
  const total = sumCounts([countPeople(labels, detections), countPeople([], [])]);
  assert.deepEqual(total, { present: 2, found: 2, presentWhole: 1, foundWhole: 1, phantoms: 2, frames: 2, framesWithPhantoms: 1 });
});
