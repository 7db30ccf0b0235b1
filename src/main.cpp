#include "cli/cli.h"

int main(int argc, char** argv) {
  return vb::cli_main(argc, argv);
}
