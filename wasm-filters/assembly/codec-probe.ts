import './abi/abort';
export function placeholder(): i32 {
  return 1;
}
