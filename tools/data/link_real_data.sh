#!/usr/bin/env bash
# Link the real medical files that ship beside the repository (default ../shared/data: one
# CT with organ labels, DICOM files, IU X-ray reports, pediatric pneumonia radiographs) under
# data/, where the configs and tests look for them: data/ct, data/dicom, data/reports,
# data/cxr-pneumonia. Nothing is copied; existing links are replaced, other files are kept.
#   bash tools/data/link_real_data.sh [SOURCE] [DEST]    (DEST default: data)
set -euo pipefail
cd "$(dirname "$0")/../.."
SOURCE=${1:-../shared/data}
DEST=${2:-data}
if [ ! -d "$SOURCE" ]; then
  echo "link_real_data: no folder $SOURCE; nothing linked" >&2
  exit 1
fi
SOURCE=$(cd "$SOURCE" && pwd)
mkdir -p "$DEST"
for name in ct dicom reports cxr-pneumonia; do
  if [ -d "$SOURCE/$name" ]; then
    if [ -e "$DEST/$name" ] && [ ! -L "$DEST/$name" ]; then
      echo "link_real_data: $DEST/$name exists and is not a link; left alone" >&2
      continue
    fi
    ln -sfn "$SOURCE/$name" "$DEST/$name"
    echo "$DEST/$name -> $SOURCE/$name"
  fi
done
