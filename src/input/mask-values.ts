import { describeValue, InputError } from '../input-error.js';
import { formatIndex, type Tensor } from '../tensor.js';

/**
 * A mask as read (booleans as 1 and 0, or numbers), each element checked: anything but 0 and 1 is
 * refused by its index, rather than read as true (a float mask of −inf and 0 is an additive mask,
 * not a boolean one, and would mean the opposite).
 */
export function checkedMask(mask: Tensor, field: string): Tensor {
  for (let k = 0; k < mask.data.length; k++) {
    const value = mask.data[k];
    if (value !== 0 && value !== 1) {
      throw new InputError(`${field}${formatIndex(k, mask.shape)} is ${describeValue(value)}, not a boolean: a mask holds true/false (or 1/0), true where the element takes part`);
    }
  }
  return mask;
}
